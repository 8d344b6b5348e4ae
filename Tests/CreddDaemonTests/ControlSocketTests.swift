import CreddCore
import CreddDaemon
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

    @Test func aRequestGetsItsAnswer() async throws {
        try await Self.withServer { path in
            let response = try await Self.send(ControlRequest(command: .refresh, profiles: ["dev", "ops"]), to: path)
            #expect(response.ok)
            #expect(response.message == "renewing dev,ops")
        }
    }

    @Test func failuresComeBackAsErrors() async throws {
        try await Self.withServer { path in
            let response = try await Self.send(ControlRequest(command: .login, profile: "mfa", code: Secret("123456")), to: path)
            #expect(!response.ok)
            #expect(response.error == "wrong code for mfa")
        }
    }

    @Test func socketAndDirectoryArePrivate() async throws {
        try await Self.withServer { path in
            let socketMode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            let directoryMode = try #require(try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)[.posixPermissions] as? Int)
            #expect(socketMode == 0o600)
            #expect(directoryMode == 0o700)
        }
    }

    @Test func noDaemonIsReportedAsSuch() throws {
        #expect(throws: DaemonError.noDaemon("/nonexistent/credd/control.sock")) {
            try ControlClient(path: "/nonexistent/credd/control.sock").send(ControlRequest(command: .status))
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
