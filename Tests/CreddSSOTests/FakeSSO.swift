import AsyncHTTPClient
import CreddCore
import CreddSSO
import CreddTestSupport
import Foundation
import NIOCore
import Synchronization
import Testing

/// `Fixtures/fake_sso.py` on a free loopback port for the life of a test, with its control
/// endpoints, and optionally minting role credentials from a moto_server.
final class FakeSSO: Sendable {
    let server: LoopbackServer
    let moto: MotoServer?
    let http = SSOHTTP()

    var endpoint: String { "http://127.0.0.1:\(server.port)" }
    var oidc: SSOOIDCClient { SSOOIDCClient(http: http, endpoint: endpoint) }
    var portal: SSOPortalClient { SSOPortalClient(http: http, endpoint: endpoint) }

    static func fixture(_ name: String) throws -> String {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "the Fixtures resource is missing")
        return root.appendingPathComponent(name).path
    }

    /// Starts the fake (and, with `withMoto`, a moto_server whose STS mints the role credentials).
    static func start(withMoto: Bool = false) async throws -> FakeSSO {
        let moto = withMoto ? try await MotoServer.start() : nil
        let script = try fixture("fake_sso.py")
        let arguments = ["python3", script, "--port", "{PORT}"] + (moto.map { ["--moto", $0.endpoint] } ?? [])
        let server = try await onDedicatedThread { () throws -> LoopbackServer in try LoopbackServer(arguments, environment: pythonEnvironment) }
        return FakeSSO(server: server, moto: moto)
    }

    private init(server: LoopbackServer, moto: MotoServer?) {
        self.server = server
        self.moto = moto
    }

    func stop() async {
        try? await http.shutdown()
        server.stop()
        moto?.stop()
    }

    /// Merges `settings` into the fake's CONFIG.
    func configure(_ settings: [String: Any]) async throws {
        _ = try await control("/_fake/config", body: try JSONSerialization.data(withJSONObject: settings))
    }

    func endSession() async throws {
        _ = try await control("/_fake/end-session", body: Data("{}".utf8))
    }

    /// The fake's counters (`"POST /client/register"`, `"grant refresh_token"`, …) and last requests.
    func state() async throws -> [String: Any] {
        let data = try await control("/_fake/state", body: nil)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func count(_ name: String) async throws -> Int {
        ((try await state()["counts"] as? [String: Any])?[name] as? Int) ?? 0
    }

    private func control(_ path: String, body: Data?) async throws -> Data {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = body == nil ? .GET : .POST
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw TestSupportError("\(path): HTTP \(response.status.code)") }
        return Data(bytes.readableBytesView)
    }

    /// python3's environment without the developer's AWS settings.
    static var pythonEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["AWS_CONFIG_FILE"] = "/dev/null"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        return environment
    }
}

/// The session the tests sign in to.
let corpSession = SSOSession(name: "corp", startURL: "https://corp.awsapps.com/start", region: "us-east-1", scopes: ["sso:account:access"])

/// Every secret a value holds must be absent from `text`.
func expectNoSecrets(_ text: String, _ secrets: [Secret?], sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in secrets.compactMap({ $0 }) where !secret.isEmpty {
        #expect(!text.contains(secret.revealed), "a secret leaked into: \(text.prefix(200))", sourceLocation: sourceLocation)
    }
}

/// A token for tests, valid from `now` for `lifetime` seconds.
func makeToken(
    at now: Date, lifetime: TimeInterval = 3600, refreshable: Bool = true, registrationValidFor: TimeInterval = 90 * 86_400,
    id: String = UUID().uuidString
) -> SSOToken {
    SSOToken(
        startURL: corpSession.startURL, region: corpSession.region, accessToken: Secret("access-\(id)"),
        expiresAt: now.addingTimeInterval(lifetime), clientId: "client-1", clientSecret: Secret("client-secret-1"),
        registrationExpiresAt: now.addingTimeInterval(registrationValidFor), refreshToken: refreshable ? Secret("refresh-\(id)") : nil)
}

/// Values recorded from callbacks that run on other tasks (prompts, published tokens, statuses).
final class Recorder<Element: Sendable>: Sendable {
    private let stored = Mutex<[Element]>([])

    func append(_ element: Element) { stored.withLock { $0.append(element) } }
    var entries: [Element] { stored.withLock { $0 } }
}
