import CreddCore
import CreddPlatform
import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import CreddEndpoint

/// The endpoint over real loopback sockets: framing, limits, refusals and startup paths.
struct EndpointServerTests {
    let credentials = FakeCredentials.make(expiration: Date().addingTimeInterval(3600))
    let source = FakeCredentialSource()
    let logs = InMemoryLogHandler()

    init() {
        source.set(.available(credentials, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: Date()), for: "dev")
    }

    var secrets: [String] {
        [credentials.secretAccessKey.revealed, credentials.sessionToken?.revealed ?? "", TestEndpoint.containerToken.revealed]
    }

    func expectNoSecretInLogs() {
        let text = logs.renderedText
        for secret in secrets {
            #expect(!text.contains(secret))
        }
    }

    static func containerRequest(port: Int, host: String? = nil, extra: [String] = []) -> String {
        RawHTTPClient.get("/v1/credentials/dev", port: port, host: host, headers: ["Authorization: \(TestEndpoint.containerToken.revealed)"] + extra)
    }

    @Test func servesContainerCredentialsAndKeepsTheConnectionAlive() async throws {
        try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            let (first, second, head) = await onDedicatedThread { () -> (RawHTTPResponse?, RawHTTPResponse?, RawHTTPResponse?) in
                let descriptor = RawHTTPClient.connect(port: port)
                defer { close(descriptor) }
                RawHTTPClient.send(descriptor, Array(Self.containerRequest(port: port).utf8))
                let first = RawHTTPClient.readResponse(descriptor)
                RawHTTPClient.send(descriptor, Array(Self.containerRequest(port: port).utf8))
                let second = RawHTTPClient.readResponse(descriptor)
                let headRequest = Self.containerRequest(port: port).replacingOccurrences(of: "GET ", with: "HEAD ")
                RawHTTPClient.send(descriptor, Array(headRequest.utf8))
                let head = RawHTTPClient.readHeadOnly(descriptor)
                return (first, second, head)
            }
            let response = try #require(first)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("Cache-Control") == "no-store")
            #expect(response.body.contains(credentials.secretAccessKey.revealed))
            #expect(second?.status == 200)
            #expect(head?.status == 200)
            #expect(head?.body.isEmpty == true)
        }
        expectNoSecretInLogs()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let responses = await onDedicatedThread { () -> [RawHTTPResponse?] in
                let descriptor = RawHTTPClient.connect(port: port)
                defer { close(descriptor) }
                let token = "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n"
                let missing = RawHTTPClient.get(
                    "/v1/credentials/nosuch", port: port, headers: ["Authorization: \(TestEndpoint.containerToken.revealed)"])
                RawHTTPClient.send(descriptor, Array((token + missing + Self.containerRequest(port: port)).utf8))
                return RawHTTPClient.readResponses(descriptor, count: 3)
            }
            #expect(responses.map { $0?.status } == [200, 404, 200])
            #expect(responses[0]?.header("X-aws-ec2-metadata-token-ttl-seconds") == "60")
        }
    }

    @Test(arguments: [
        ("X-Forwarded-For: 10.0.0.1", 403),
        ("Origin: https://attacker.example", 403),
        ("Sec-Fetch-Site: cross-site", 403),
        ("Via: 1.1 tinyproxy (tinyproxy/1.11.1)", 403),
        ("X-Real-IP: 10.0.0.1", 403),
    ])
    func refusedHeadersOverTheWire(header: String, status: Int) async throws {
        try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, Self.containerRequest(port: port, extra: [header])) }
            #expect(response?.status == status)
            #expect(response?.header("Connection") == "close")
            #expect(response?.body.contains(credentials.accessKeyId) == false)
        }
        expectNoSecretInLogs()
    }

    @Test func xForwardedForOnTokenPutIs403() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let request =
                "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"
            let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, request) }
            #expect(response?.status == 403)
        }
    }

    @Test func foreignHostHeaderIsRefused() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, Self.containerRequest(port: port, host: "attacker.example")) }
            #expect(response?.status == 403)
            #expect(response?.body.contains(credentials.accessKeyId) == false)
        }
    }

    /// Closed as accepted: no answer, nothing read, one summary line for many refusals.
    @Test func clientsOfAnotherUserAreClosedAtOnceAndLoggedAsOneSummary() async throws {
        try await TestEndpoint.withRunning(source: source, logHandler: logs, socketOwners: FixedSocketOwner(uid: 65534)) { port in
            let outcomes = await onDedicatedThread { () -> [Bool] in
                (0..<20).map { _ in
                    let descriptor = RawHTTPClient.connect(port: port)
                    defer { close(descriptor) }
                    // Closed without a byte of answer, whether or not the request got out first.
                    RawHTTPClient.send(descriptor, Array(Self.containerRequest(port: port).utf8))
                    return RawHTTPClient.waitForClose(descriptor)
                }
            }
            #expect(outcomes.allSatisfy { $0 })
        }
        let summaries = logs.entries.filter { $0.metadata["net.peer.uid"] == "65534" }
        #expect(summaries.count == 1, "\(summaries.map(\.message))")
        #expect(summaries.first?.level == .warning)
        #expect(summaries.first?.metadata["credd.refused"] == "20")
        #expect(source.lookupCount == 0)
    }

    @Test func unreadableSocketTableFailsClosed() async throws {
        let broken = ProcNetSocketOwnerLookup(tablePaths: ["/nonexistent/credd-test/tcp"])
        try await TestEndpoint.withRunning(source: source, logHandler: logs, socketOwners: broken) { port in
            let closed = await onDedicatedThread { Self.closedUnanswered(port: port) }
            #expect(closed)
        }
        #expect(logs.entries.contains { $0.level == .error && "\($0.metadata["error"] ?? "")".contains("/nonexistent/credd-test/tcp") })
    }

    @Test func unknownSocketFailsClosed() async throws {
        try await TestEndpoint.withRunning(source: source, socketOwners: FixedSocketOwner(uid: nil)) { port in
            let closed = await onDedicatedThread { Self.closedUnanswered(port: port) }
            #expect(closed)
        }
    }

    /// Whether a container request on a new connection is met with a close and no answer.
    static func closedUnanswered(port: Int) -> Bool {
        let descriptor = RawHTTPClient.connect(port: port)
        defer { close(descriptor) }
        RawHTTPClient.send(descriptor, Array(containerRequest(port: port).utf8))
        return RawHTTPClient.readResponse(descriptor) == nil && RawHTTPClient.waitForClose(descriptor)
    }

    @Test func realProcessOfAnotherUserIsRefused() async throws {
        let setpriv = "/usr/bin/setpriv"
        let curl = "/usr/bin/curl"
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv), FileManager.default.isExecutableFile(atPath: curl) else {
            print("skipped: needs root, \(setpriv) and \(curl) to run a client as uid 65534")
            return
        }
        try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            let arguments = [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy", "*",
                "-H", "Authorization: \(TestEndpoint.containerToken.revealed)",
                "http://127.0.0.1:\(port)/v1/credentials/dev",
            ]
            let asNobody = try await ChildProcess.runOnDedicatedThread(
                [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", curl] + arguments, environment: ["PATH": "/usr/bin:/bin"]
            )
            // No HTTP answer at all: the connection is closed as it is accepted.
            #expect(asNobody.stdout == "000", "\(asNobody.stderr)")
            let asUs = try await ChildProcess.runOnDedicatedThread([curl] + arguments, environment: ["PATH": "/usr/bin:/bin"])
            #expect(asUs.stdout == "200", "\(asUs.stderr)")
        }
        #expect(logs.entries.contains { $0.level == .warning && $0.metadata["net.peer.uid"] == "65534" })
        expectNoSecretInLogs()
    }

    @Test func oversizeHeadersAreRefusedWith431() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let padding = (0..<200).map { "X-Padding-\($0): \(String(repeating: "a", count: 40))" }
            let (response, closed) = await onDedicatedThread { () -> (RawHTTPResponse?, Bool) in
                let descriptor = RawHTTPClient.connect(port: port)
                defer { close(descriptor) }
                RawHTTPClient.send(descriptor, Array(Self.containerRequest(port: port, extra: padding).utf8))
                let response = RawHTTPClient.readResponse(descriptor)
                return (response, RawHTTPClient.waitForClose(descriptor))
            }
            #expect(response?.status == 431)
            #expect(closed)
            // Just under the limit is still served.
            let fitting = (0..<100).map { "X-Padding-\($0): \(String(repeating: "a", count: 40))" }
            let ok = await onDedicatedThread { RawHTTPClient.exchange(port: port, Self.containerRequest(port: port, extra: fitting)) }
            #expect(ok?.status == 200)
        }
    }

    @Test func requestsWithBodiesAreRefusedWith413() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let request =
                "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 100000\r\n\r\n"
            let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, request) }
            #expect(response?.status == 413)
        }
    }

    @Test func malformedRequestsGet400() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, "GARBAGE\r\n\r\n") }
            #expect(response?.status == 400)
        }
    }

    /// After a parse error: one 400 that closes, after the answers to the requests before it, and nothing more.
    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: value\r\n\r\n",
        "GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        "GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
    ])
    func aParseErrorAfterPipelinedRequestsIsAnsweredOnceAndCloses(malformed: String) async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let (responses, closed) = await onDedicatedThread { () -> ([RawHTTPResponse?], Bool) in
                let descriptor = RawHTTPClient.connect(port: port)
                defer { close(descriptor) }
                RawHTTPClient.send(descriptor, Array((Self.containerRequest(port: port) + malformed + Self.containerRequest(port: port)).utf8))
                let responses = RawHTTPClient.readResponses(descriptor, count: 2)
                return (responses, RawHTTPClient.waitForClose(descriptor))
            }
            #expect(responses.map { $0?.status } == [200, 400])
            #expect(responses[1]?.header("Connection") == "close")
            #expect(responses[1]?.header("Content-Type") == "application/json")
            #expect(closed)
        }
    }

    @Test func http10ClientsGetKeepAliveOnlyWhenTheyAskForIt() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let (kept, last, closed) = await onDedicatedThread { () -> (RawHTTPResponse?, RawHTTPResponse?, Bool) in
                let descriptor = RawHTTPClient.connect(port: port)
                defer { close(descriptor) }
                let request = Self.containerRequest(port: port).replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0")
                RawHTTPClient.send(descriptor, Array(request.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: keep-alive\r\n\r\n").utf8))
                let kept = RawHTTPClient.readResponse(descriptor)
                RawHTTPClient.send(descriptor, Array(request.utf8))
                let last = RawHTTPClient.readResponse(descriptor)
                return (kept, last, RawHTTPClient.waitForClose(descriptor))
            }
            #expect(kept?.version == "HTTP/1.0")
            #expect(kept?.status == 200)
            #expect(kept?.header("Connection") == "keep-alive")
            #expect(last?.status == 200)
            #expect(last?.header("Connection") == "close")
            #expect(last?.body.contains(credentials.secretAccessKey.revealed) == true)
            #expect(closed)
        }
    }

    @Test func stalledAndIdleConnectionsAreClosed() async throws {
        let limits = EndpointConfiguration.Limits(requestTimeout: .seconds(1), idleTimeout: .seconds(1))
        try await TestEndpoint.withRunning(configuration: TestEndpoint.configuration(limits: limits), source: source) { port in
            let (stalledClosed, idleClosed, servedBeforeIdle) = await onDedicatedThread { () -> (Bool, Bool, Int?) in
                let stalled = RawHTTPClient.connect(port: port)
                defer { close(stalled) }
                RawHTTPClient.send(stalled, Array("GET /v1/credentials/dev HTTP/1.1\r\nHost: 127".utf8))
                let stalledClosed = RawHTTPClient.waitForClose(stalled)

                let idle = RawHTTPClient.connect(port: port)
                defer { close(idle) }
                RawHTTPClient.send(idle, Array(Self.containerRequest(port: port).utf8))
                let served = RawHTTPClient.readResponse(idle)?.status
                return (stalledClosed, RawHTTPClient.waitForClose(idle), served)
            }
            #expect(stalledClosed)
            #expect(servedBeforeIdle == 200)
            #expect(idleClosed)
        }
    }

    /// A client of the served user that pipelines requests without reading the answers: credd
    /// stops reading once its write buffer is full, so the client's sends block and credd's
    /// memory stays flat (each 180-byte request asks for a 1.2 kB answer).
    @Test func aClientThatPipelinesWithoutReadingCannotGrowMemory() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            let before = Self.residentKiB()
            let (sent, firstAnswer) = await onDedicatedThread { () -> (Int, Int?) in
                let descriptor = RawHTTPClient.connect(port: port, receiveTimeoutSeconds: 2)
                defer { close(descriptor) }
                let batch = Array(String(repeating: Self.containerRequest(port: port), count: 1000).utf8)
                var sent = 0
                // Sends time out (2 s) once credd has stopped reading; at most 100 MB are tried.
                while sent < 100_000_000, RawHTTPClient.send(descriptor, batch) { sent += batch.count }
                return (sent, RawHTTPClient.readResponse(descriptor)?.status)
            }
            let grownMiB = (Self.residentKiB() - before) / 1024
            print(
                "pipelining without reading: \(sent / 1_000_000) MB of requests accepted before sends blocked; resident memory grew \(grownMiB) MiB")
            #expect(sent < 100_000_000, "credd kept reading")
            #expect(grownMiB < 64)
            #expect(firstAnswer == 200)
        }
    }

    static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test(arguments: [512, 64])
    func fiveHundredIdleConnectionsDoNotLockOutARealClient(maxConnections: Int) async throws {
        // Long timeouts, so only the connection cap (not the idle timeout) can make room.
        let limits = EndpointConfiguration.Limits(requestTimeout: .seconds(120), idleTimeout: .seconds(120), maxConnections: maxConnections)
        try await TestEndpoint.withRunning(configuration: TestEndpoint.configuration(limits: limits), source: source) { port in
            let (response, idleCount, firstEvicted) = await onDedicatedThread { () -> (RawHTTPResponse?, Int, Bool) in
                let idle = (0..<500).map { _ in RawHTTPClient.connect(port: port) }
                defer { idle.forEach { close($0) } }
                // Half of them start a request and stall, the rest never send a byte.
                for descriptor in idle.prefix(250) {
                    RawHTTPClient.send(descriptor, Array("GET /v1/credentials/dev HTTP/1.1\r\n".utf8))
                }
                let response = RawHTTPClient.exchange(port: port, Self.containerRequest(port: port))
                let evicted = maxConnections < 500 ? RawHTTPClient.waitForClose(idle[0]) : true
                return (response, idle.filter { $0 >= 0 }.count, evicted)
            }
            #expect(idleCount == 500)
            #expect(response?.status == 200)
            #expect(firstEvicted)
        }
    }

    @Test(arguments: ["0.0.0.0", "192.0.2.1", "::", "example.com"])
    func bindRefusesNonLoopbackAddresses(host: String) async throws {
        var configuration = TestEndpoint.configuration()
        configuration.host = host
        let endpoint = CredentialEndpoint(configuration: configuration, source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let error = await #expect(throws: EndpointError.self) { try await endpoint.bind() }
        #expect(error?.description.contains(host) == true)
        #expect(endpoint.boundPort == nil)
    }

    @Test func bindReportsAPortInUseAndRefusesASecondStart() async throws {
        try await TestEndpoint.withRunning(source: source) { port in
            var configuration = TestEndpoint.configuration()
            configuration.port = port
            let clash = CredentialEndpoint(configuration: configuration, source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
            let error = await #expect(throws: EndpointError.self) { try await clash.bind() }
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
            #expect(error?.isPortHeld == true)
        }
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        try await endpoint.bind()
        await #expect(throws: EndpointError.self) { try await endpoint.bind() }
        let server = Task { try await endpoint.run() }
        server.cancel()
        _ = await server.result
    }

    @Test func adoptsAnAlreadyListeningLoopbackSocket() async throws {
        let descriptor = try TCPSocket.bound(to: "127.0.0.1", listening: true)
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let port = try await endpoint.adopt(descriptors: [descriptor])
        #expect(endpoint.boundPort == port)
        let server = Task { try await endpoint.run() }
        let response = await onDedicatedThread { RawHTTPClient.exchange(port: port, Self.containerRequest(port: port)) }
        #expect(response?.status == 200)
        server.cancel()
        _ = await server.result
    }

    @Test func refusesToAdoptANonLoopbackSocket() async throws {
        let descriptor = try TCPSocket.bound(to: "0.0.0.0", listening: true)
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let error = await #expect(throws: EndpointError.self) { try await endpoint.adopt(descriptors: [descriptor]) }
        #expect(error?.description.contains("0.0.0.0") == true, "\(String(describing: error))")
        #expect(endpoint.boundPort == nil)
    }

    @Test func refusesToAdoptASocketThatIsNotIP() async throws {
        var pair: [CInt] = [-1, -1]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[1]) }
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let error = await #expect(throws: EndpointError.self) { try await endpoint.adopt(descriptors: [pair[0]]) }
        #expect(error?.description.contains("not a bound IP socket") == true, "\(String(describing: error))")
        #expect(endpoint.boundPort == nil)
    }

    @Test func cancellingRunClosesTheListener() async throws {
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let port = try await endpoint.bind()
        let server = Task { try await endpoint.run() }
        let before = await onDedicatedThread { RawHTTPClient.exchange(port: port, Self.containerRequest(port: port)) }
        #expect(before?.status == 200)
        server.cancel()
        _ = await server.result
        let after = await onDedicatedThread { RawHTTPClient.connect(port: port) }
        #expect(after < 0)
        if after >= 0 { close(after) }
    }

    @Test func aChildProcessDoesNotKeepTheListenerOpen() async throws {
        let endpoint = CredentialEndpoint(
            configuration: TestEndpoint.configuration(), source: source, wallClock: SystemWallClock(), logger: Logger(label: "test"))
        let port = try await endpoint.bind()
        let server = Task { try await endpoint.run() }
        // posix_spawn passes on every descriptor not marked close-on-exec, as a daemon's helpers get them.
        let child = try SpawnedProcess(["sleep", "30"], environment: ["PATH": "/usr/bin:/bin"])
        defer {
            child.signal(SIGKILL)
            _ = try? child.wait(timeout: 10)
        }
        server.cancel()
        _ = await server.result
        let after = await onDedicatedThread { RawHTTPClient.connect(port: port) }
        #expect(after < 0, "the child inherited the listening socket")
        if after >= 0 { close(after) }
    }
}
