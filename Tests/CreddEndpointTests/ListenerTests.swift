import CreddCore
import CreddPlatform
import CreddTestSupport
import Foundation
import Logging
import NIOCore
import Testing

@testable import CreddEndpoint

/// Where the endpoint listens: both loopback families at one port, systemd's sockets, and a port
/// another program holds.
struct ListenerTests {
    let source = FakeCredentialSource([
        "dev": .available(FakeCredentials.make(expiration: Date().addingTimeInterval(3600)), roleArn: nil, lastUpdated: Date())
    ])

    func endpoint(host: String = "127.0.0.1", port: Int = 0) -> CredentialEndpoint {
        var configuration = TestEndpoint.configuration()
        configuration.host = host
        configuration.port = port
        return CredentialEndpoint(configuration: configuration, source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
    }

    static func request(port: Int, host: String) -> [UInt8] {
        Array(
            RawHTTPClient.get("/v1/credentials/dev", port: port, host: host, headers: ["Authorization: \(TestEndpoint.containerToken.revealed)"]).utf8
        )
    }

    /// Serves `endpoint` while `body` runs, then stops it.
    func serving<T: Sendable>(_ endpoint: CredentialEndpoint, _ body: () async throws -> T) async throws -> T {
        let server = Task { try await endpoint.run() }
        defer { server.cancel() }
        let result = try await body()
        server.cancel()
        try await server.value
        return result
    }

    @Test(arguments: ["127.0.0.1", "::1", "localhost"])
    func servesBothLoopbackFamiliesAtOnePort(host: String) async throws {
        let endpoint = endpoint(host: host)
        let port = try await endpoint.bind()
        let (ipv4, ipv6) = try await serving(endpoint) {
            await onDedicatedThread {
                (
                    RawHTTPClient.exchange(port: port, Self.request(port: port, host: "127.0.0.1:\(port)"))?.status,
                    RawHTTPClient.exchange(port: port, ipv6: true, Self.request(port: port, host: "[::1]:\(port)"))?.status
                )
            }
        }
        #expect(ipv4 == 200)
        #expect(ipv6 == 200)
    }

    /// Another program on [::1]:P, where `localhost` may resolve first: credd must not serve on
    /// 127.0.0.1:P alone, and says which address is held.
    @Test func aPortHeldOnIPv6IsReportedAndNothingIsServed() async throws {
        let squatter = try #require(try? ListeningSocket.open(SocketAddress(ipAddress: "::1", port: 0), backlog: 4).get())
        defer { close(squatter) }
        let port = try #require(ListeningSocket.localEndpoint(squatter)).port
        let endpoint = endpoint(port: Int(port))
        guard case .portHeld(let error) = try await endpoint.listen(adopting: []) else {
            Issue.record("listened although [::1]:\(port) is held")
            return
        }
        #expect(error.description.contains("[::1]:\(port)"), "\(error)")
        #expect(error.description.contains("another program"), "\(error)")
        #expect(endpoint.boundPort == nil)
        let ipv4 = await onDedicatedThread { RawHTTPClient.connect(port: Int(port)) }
        #expect(ipv4 < 0, "127.0.0.1:\(port) was left listening")
        if ipv4 >= 0 { close(ipv4) }
        // run() serves nothing and returns when cancelled.
        let server = Task { try await endpoint.run() }
        server.cancel()
        try await server.value
    }

    @Test func aPortHeldOnIPv4IsReported() async throws {
        let squatter = try TCPSocket.bound(to: "127.0.0.1", listening: true)
        defer { close(squatter) }
        let port = try TCPSocket.port(of: squatter)
        guard case .portHeld(let error) = try await endpoint(port: port).listen(adopting: []) else {
            Issue.record("listened although 127.0.0.1:\(port) is held")
            return
        }
        #expect(error.description.contains("127.0.0.1:\(port)"), "\(error)")
    }

    /// systemd keeps its copy of the sockets it passed: after the endpoint stops, they must still
    /// listen (no shutdown(2)), so that the next request starts credd again.
    @Test func adoptedSocketsStayListeningAfterTheEndpointStops() async throws {
        let ipv4 = try TCPSocket.bound(to: "127.0.0.1", listening: true)
        let port = try TCPSocket.port(of: ipv4)
        let ipv6 = try #require(try? ListeningSocket.open(SocketAddress(ipAddress: "::1", port: port), backlog: 4).get())
        let systemdCopies = [dup(ipv4), dup(ipv6)]
        defer { systemdCopies.forEach { close($0) } }
        let endpoint = endpoint()
        #expect(try await endpoint.listen(adopting: [ipv4, ipv6]).servingPort == port)
        let served = try await serving(endpoint) {
            await onDedicatedThread { RawHTTPClient.exchange(port: port, ipv6: true, Self.request(port: port, host: "localhost"))?.status }
        }
        #expect(served == 200)
        for copy in systemdCopies {
            var listening: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            #expect(getsockopt(copy, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0)
            #expect(listening == 1, "fd \(copy) no longer listens")
        }
        // A connection waits in the backlog, as systemd needs it to for the next start.
        let waiting = await onDedicatedThread { RawHTTPClient.connect(port: port) }
        #expect(waiting >= 0)
        if waiting >= 0 { close(waiting) }
    }
}

extension CredentialEndpoint.Listening {
    var servingPort: Int? {
        if case .serving(let port) = self { return port }
        return nil
    }
}
