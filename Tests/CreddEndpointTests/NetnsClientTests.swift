import CreddCore
import CreddTestSupport
import Foundation
import InMemoryLogging
import Testing

@testable import CreddEndpoint

/// A client in another network namespace, reaching the endpoint over a veth pair (both ends with
/// `route_localnet`, so 127.0.0.1 may cross it). Its socket is not in the endpoint's namespace, so
/// the kernel's sock_diag lookup of it falls back to a listener on the client's port: when the
/// owner listens there, the kernel answers with the owner's uid. `SockDiagMessage.parseReply`
/// must not take that listener for the client.
@Suite(.serialized)
struct NetnsClientTests {
    static let python = "/usr/bin/python3"
    static let ip = "/usr/sbin/ip"

    @Test func aClientInAnotherNamespaceOnAnOwnersListeningPortIsRefused() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: Self.ip), FileManager.default.isExecutableFile(atPath: Self.python) else {
            print("skipped: a network namespace needs root, \(Self.ip) and \(Self.python)")
            return
        }
        let namespace = try await Namespace.create()
        defer { namespace.remove() }
        // The owner's listener, on every address, at the port the client will send from.
        let ownerListener = try TCPSocket.bound(to: "0.0.0.0", listening: true)
        defer { close(ownerListener) }
        let collidingPort = try TCPSocket.port(of: ownerListener)

        let logs = InMemoryLogHandler()
        let source = FakeCredentialSource([
            "dev": .available(FakeCredentials.make(expiration: Date().addingTimeInterval(3600)), roleArn: nil, lastUpdated: Date())
        ])
        let (answer, reply) = try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            let client = """
                import socket, sys
                s = socket.socket()
                s.settimeout(10)
                s.bind(("\(namespace.clientAddress)", \(collidingPort)))
                s.connect(("127.0.0.1", \(port)))
                data = b""
                try:
                    s.sendall(b"GET /v1/credentials/dev HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAuthorization: \(TestEndpoint.containerToken.revealed)\\r\\n\\r\\n")
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except ConnectionResetError:
                    pass
                print("answered" if data else "closed")
                """
            let answer = try await ChildProcess.runOnDedicatedThread(
                [Self.ip, "netns", "exec", namespace.name, Self.python, "-c", client], environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"],
                timeout: 30)
            // What the kernel answers for that client: the owner's listener, which the port check refuses.
            let query = NetlinkSocketQuery(netlinkProtocol: SockDiagMessage.netlinkProtocol)
            let reply = query.ask(
                client: try #require(SocketEndpoint(address: namespace.clientAddressBytes, port: UInt16(collidingPort))),
                server: try #require(SocketEndpoint(address: [127, 0, 0, 1], port: UInt16(port))))
            return (answer, reply)
        }
        #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(answer.stdout) \(answer.stderr)")
        #expect(reply == .malformed, "the kernel's answer was taken for the client's: \(reply)")
        #expect(logs.entries.contains { $0.message.description.contains("does not list") }, "\(logs.renderedText)")
        #expect(source.lookupCount == 0)
    }

    /// A namespace with a veth pair to this one: 10.199.N.1 here, 10.199.N.2 there, and 127.0.0.1
    /// routed across.
    struct Namespace {
        let name: String
        let hostInterface: String
        let subnet: Int

        var clientAddress: String { "10.199.\(subnet).2" }
        var clientAddressBytes: [UInt8] { [10, 199, UInt8(subnet), 2] }

        static func create() async throws -> Namespace {
            let pid = Int(getpid())
            let namespace = Namespace(name: "credd-test-\(pid)", hostInterface: "cdt\(pid % 100_000)h", subnet: pid % 250 + 1)
            let peer = "cdt\(pid % 100_000)n"
            let host = "10.199.\(namespace.subnet).1"
            let ip = NetnsClientTests.ip
            let steps: [[String]] = [
                [ip, "netns", "add", namespace.name],
                [ip, "link", "add", namespace.hostInterface, "type", "veth", "peer", "name", peer],
                [ip, "link", "set", peer, "netns", namespace.name],
                [ip, "addr", "add", "\(host)/30", "dev", namespace.hostInterface],
                [ip, "link", "set", namespace.hostInterface, "up"],
                ["/usr/sbin/sysctl", "-qw", "net.ipv4.conf.\(namespace.hostInterface).route_localnet=1"],
                [ip, "netns", "exec", namespace.name, ip, "addr", "add", "\(namespace.clientAddress)/30", "dev", peer],
                [ip, "netns", "exec", namespace.name, ip, "link", "set", peer, "up"],
                [ip, "netns", "exec", namespace.name, "/usr/sbin/sysctl", "-qw", "net.ipv4.conf.\(peer).route_localnet=1"],
                [ip, "netns", "exec", namespace.name, ip, "route", "add", "127.0.0.1/32", "via", host, "dev", peer],
            ]
            do {
                for step in steps {
                    let result = try await ChildProcess.runOnDedicatedThread(
                        step, environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], timeout: 30)
                    guard result.status == 0 else { throw TestSupportError("\(step.joined(separator: " ")): \(result.stderr)") }
                }
            } catch {
                namespace.remove()
                throw error
            }
            return namespace
        }

        /// Deleting the namespace deletes its end of the pair, and with it this one.
        func remove() {
            _ = try? ChildProcess.run(
                [NetnsClientTests.ip, "netns", "del", name], environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], timeout: 30)
            _ = try? ChildProcess.run(
                [NetnsClientTests.ip, "link", "del", hostInterface], environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], timeout: 30)
        }
    }
}
