import CreddControl
import CreddCore
import CreddDaemon
import CreddPlatform
import CreddTestSupport
import Foundation
import Logging
import Testing

struct ControlSocketTests {
    /// The client blocks by design (one call per CLI run); keep it off the cooperative pool,
    /// which also runs the server under test.
    static func send(_ request: ControlRequest, to path: String) async throws -> ControlResponse {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try ControlClient(path: path, timeoutSeconds: 60).send(request) })
            }
        }
    }

    /// Writes `bytes` as they are, closes the writing side and returns everything the server sent.
    static func sendRaw(_ bytes: [UInt8], to path: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                        try #require(fd >= 0)
                        defer { close(fd) }
                        let address = try #require(UnixSocketAddress(path: path))
                        try #require(address.withSockaddr { connect(fd, $0, $1) } == 0, "connect: errno \(errno)")
                        var timeout = timeval(tv_sec: 60, tv_usec: 0)
                        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                        var rest = bytes[...]
                        while !rest.isEmpty {
                            let written = rest.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                            guard written > 0 else { break }  // the server stopped reading: it answers now
                            rest = rest.dropFirst(written)
                        }
                        shutdown(fd, Int32(SHUT_WR))
                        var received: [UInt8] = []
                        var buffer = [UInt8](repeating: 0, count: 4096)
                        while true {
                            let count = read(fd, &buffer, buffer.count)
                            guard count > 0 else { break }
                            received += buffer[0..<count]
                        }
                        return String(decoding: received, as: UTF8.self)
                    })
            }
        }
    }

    static func withServer(_ body: @Sendable (String) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "credd-control")
        let paths = RuntimePaths(directory: directory.file("credd"))
        try paths.prepare()
        let server = try await ControlServer.bind(path: paths.controlSocket, logger: Logger(label: "test")) { request in
            switch request.command {
            case .refresh:
                return ControlResponse(ok: true, message: "renewing \(request.profiles.joined(separator: ","))")
            case .login:
                return .failure("wrong code for \(request.profile ?? "?")")
            default:
                return .failure("unsupported")
            }
        }
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        try await body(paths.controlSocket)
    }

    /// A request and the answer it must get: `text` is the message when `ok`, else the error.
    struct Exchange: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let request: ControlRequest
        let ok: Bool
        let text: String
    }

    @Test(arguments: [
        Exchange(
            testDescription: "a request gets its answer", request: ControlRequest(command: .refresh, profiles: ["dev", "ops"]), ok: true,
            text: "renewing dev,ops"),
        Exchange(
            testDescription: "a failure comes back as an error", request: ControlRequest(command: .login, profile: "mfa", code: Secret("123456")),
            ok: false, text: "wrong code for mfa"),
    ])
    func aRequestGetsItsAnswer(_ exchange: Exchange) async throws {
        try await Self.withServer { path in
            let response = try await Self.send(exchange.request, to: path)
            #expect(response.ok == exchange.ok)
            #expect((exchange.ok ? response.message : response.error) == exchange.text)
        }
    }

    @Test func socketAndDirectoryArePrivate() async throws {
        try await Self.withServer { path in
            let socketMode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            let directoryMode = try #require(
                try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)[.posixPermissions] as? Int)
            #expect(socketMode == 0o600)
            #expect(directoryMode == 0o700)
        }
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let bytes: [UInt8]
    }

    @Test(arguments: [
        Malformed(
            testDescription: "a line longer than the bound", bytes: Array(repeating: UInt8(ascii: "x"), count: ControlFraming.maximumRequestBytes + 1)
        ),
        Malformed(testDescription: "no newline", bytes: Array("{\"command\": \"status\"}".utf8)),
        Malformed(testDescription: "nothing", bytes: []),
    ])
    func aRequestTooLongOrNotALineIsRefused(request: Malformed) async throws {
        try await Self.withServer { path in
            let answer = try await Self.sendRaw(request.bytes, to: path)
            let response = try ControlFraming.decode(ControlResponse.self, from: Array(answer.utf8))
            #expect(!response.ok)
            #expect(response.error == "the request was empty, too long or not terminated by a newline")
        }
    }

    @Test func aLineThatIsNotARequestIsClosedWithoutAnswer() async throws {
        try await Self.withServer { path in
            #expect(try await Self.sendRaw(Array("{\"command\": \"format-disk\"}\n".utf8), to: path) == "")
            // The server goes on serving.
            let response = try await Self.send(ControlRequest(command: .refresh, profiles: ["dev"]), to: path)
            #expect(response.message == "renewing dev")
        }
    }

    @Test func aRuntimeDirectoryOwnedBySomeoneElseIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "credd-runtime")
        let shared = directory.file("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        guard chown(shared, 65534, 65534) == 0 else { return }  // not root: nothing to prove here
        #expect(throws: DaemonError.self) { try RuntimePaths(directory: shared).prepare() }
    }
}
