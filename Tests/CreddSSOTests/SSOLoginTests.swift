import AsyncHTTPClient
import CreddCore
import CreddPlatform
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

/// `credd login`'s two flows against the fake, with a test clock for the waits.
@Suite(.serialized) struct SSOLoginTests {
    /// Pending twice, then "slow down": the poll interval grows by 5 s, the token lands in the
    /// cache, and a second sign-in reuses the client registration.
    @Test func deviceCodeFlowPollsThroughPendingAndSlowDown() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        try await fake.configure(["pending_polls": 2, "slow_down_polls": 1])
        let home = try TemporaryDirectory()
        let clock = TestClock(wallClock: ManualWallClock(Date()))
        let wallClock = try #require(clock.wallClock)
        let login = SSOLogin(oidc: fake.oidc, cache: SSOTokenCache(home: home.path), wallClock: wallClock)
        let prompts = Recorder<SSODeviceAuthorization>()

        let sleeps = advancingEverySleep(of: clock)
        let token = try await login.loginWithDeviceCode(corpSession, clock: clock) { prompts.append($0) }
        #expect(await sleeps.stop() == [1, 1, 1, 6])

        let shown = try #require(prompts.entries.first)
        #expect(shown.verificationURI == "https://device.sso.fake/" && shown.userCode.hasPrefix("ABCD-"))
        #expect(token.refreshToken != nil && token.canRefresh(at: wallClock.now()))
        #expect(token.expiresAt == SSOToken.expiry(issuedAt: wallClock.now(), lifetime: 3600))
        let cached = try SSOTokenCache(home: home.path).load(sessionName: "corp", startURL: corpSession.startURL)
        #expect(cached == token)
        #expect(try await fake.count("POST /client/register") == 1)

        // A second sign-in finds the registration in the AWS CLI's registration cache.
        try await fake.configure(["pending_polls": 0, "slow_down_polls": 0])
        // A stream of sleeps has one reader: a second clock on the same wall clock.
        let secondClock = TestClock(wallClock: wallClock)
        let again = advancingEverySleep(of: secondClock)
        _ = try await login.loginWithDeviceCode(corpSession, clock: secondClock) { _ in }
        _ = await again.stop()
        #expect(try await fake.count("POST /client/register") == 1)
        let registration = try #require(
            SSORegistrationCache(tokens: SSOTokenCache(home: home.path)).load(
                sessionName: "corp", startURL: corpSession.startURL, region: "us-east-1", scopes: corpSession.scopes, grantType: nil, now: Date()))
        #expect(registration.clientId == token.clientId)
    }

    @Test func anExpiredDeviceCodeStopsTheSignIn() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        try await fake.configure(["expire_device_codes": true])
        let home = try TemporaryDirectory()
        let clock = TestClock(wallClock: ManualWallClock(Date()))
        let login = SSOLogin(oidc: fake.oidc, cache: SSOTokenCache(home: home.path), wallClock: try #require(clock.wallClock))
        let sleeps = advancingEverySleep(of: clock)
        let error = await #expect(throws: SSOError.self) {
            try await login.loginWithDeviceCode(corpSession, clock: clock) { _ in }
        }
        _ = await sleeps.stop()
        #expect(error?.kind == .loginFailed && error?.code == "ExpiredTokenException")
        #expect(try SSOTokenCache(home: home.path).load(sessionName: "corp", startURL: "") == nil)
    }

    /// PKCE: the "browser" is a client that follows the fake's redirect to credd's loopback
    /// listener; a callback with another `state` is refused first and does not end the wait.
    @Test func authorizationCodeFlowWithPKCE() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let home = try TemporaryDirectory()
        let login = SSOLogin(oidc: fake.oidc, cache: SSOTokenCache(home: home.path), wallClock: SystemWallClock())
        let browser = FollowingBrowser()
        let token = try await login.loginWithBrowser(corpSession, clock: ContinuousClock(), timeout: .seconds(60)) { url in
            try await browser.open(url, forgingStateFirst: true)
        }
        #expect(token.refreshToken != nil && token.clientId != nil)
        #expect(browser.statuses == [400, 200])
        let state = try await fake.state()
        let authorize = try #require((state["last"] as? [String: Any])?["authorize"] as? [String: Any])
        #expect((authorize["redirect_uri"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
        #expect(authorize["scopes"] as? String == "sso:account:access")
        #expect((authorize["code_challenge"] as? String)?.count == 43)
        let register = try #require((state["last"] as? [String: Any])?["register"] as? [String: Any])
        #expect(register["grantTypes"] as? [String] == ["authorization_code", "refresh_token"])
        #expect(register["redirectUris"] as? [String] == ["http://127.0.0.1/oauth/callback"])
        #expect(register["issuerUrl"] as? String == corpSession.startURL)
        #expect(try SSOTokenCache(home: home.path).load(sessionName: "corp", startURL: "") == token)
    }

    @Test func aBrowserThatNeverComesBackTimesOut() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let home = try TemporaryDirectory()
        let clock = TestClock(wallClock: ManualWallClock(Date()))
        let login = SSOLogin(oidc: fake.oidc, cache: SSOTokenCache(home: home.path), wallClock: try #require(clock.wallClock))
        let sleeps = advancingEverySleep(of: clock)
        let error = await #expect(throws: SSOError.self) {
            try await login.loginWithBrowser(corpSession, clock: clock, timeout: .seconds(120)) { _ in }
        }
        #expect(await sleeps.stop() == [120])
        #expect(error?.kind == .loginFailed && error?.message.contains("no sign-in arrived") == true)
    }

    @Test func aRefusedAuthorizationFailsTheSignIn() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let home = try TemporaryDirectory()
        let login = SSOLogin(oidc: fake.oidc, cache: SSOTokenCache(home: home.path), wallClock: SystemWallClock())
        let error = await #expect(throws: SSOError.self) {
            try await login.loginWithBrowser(corpSession, clock: ContinuousClock(), timeout: .seconds(60)) { url in
                // The user clicks "deny": the callback carries an OAuth error with the right state.
                let query = try #require(URLComponents(string: url)?.queryItems)
                let redirect = try #require(query.first { $0.name == "redirect_uri" }?.value)
                let state = try #require(query.first { $0.name == "state" }?.value)
                _ = try await HTTPClient.shared.get(url: "\(redirect)?error=access_denied&state=\(state)").get()
            }
        }
        #expect(error?.code == "AccessDeniedException" && error?.kind == .loginFailed)
    }

    @Test func pkceVerifierAndChallengeFollowRFC7636() {
        var random = SystemRandomNumberGenerator()
        let pkce = PKCE(using: &random)
        #expect(pkce.verifier.count == 64)
        #expect(pkce.verifier.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) })
        // RFC 7636 appendix B.
        let example = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(example.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    // MARK: - Helpers

    /// Advances `clock` to each sleep's deadline as soon as the sleep starts; `stop()` returns the
    /// sleeps' lengths in seconds.
    private func advancingEverySleep(of clock: TestClock) -> SleepDriver {
        SleepDriver(clock: clock)
    }
}

final class SleepDriver: Sendable {
    private let task: Task<[Int], Never>

    init(clock: TestClock) {
        task = Task {
            var lengths: [Int] = []
            for await deadline in clock.sleepStarted {
                let length = clock.now.duration(to: deadline)
                lengths.append(Int(length.components.seconds))
                clock.advance(by: length)
                if Task.isCancelled { break }
            }
            return lengths
        }
    }

    func stop() async -> [Int] {
        task.cancel()
        return await task.value
    }
}

/// A browser stand-in: requests the authorize URL and follows the redirect to credd's listener.
final class FollowingBrowser: Sendable {
    private let recorded = Recorder<Int>()
    var statuses: [Int] { recorded.entries }

    func open(_ url: String, forgingStateFirst: Bool) async throws {
        let client = HTTPClient(configuration: .init(redirectConfiguration: .disallow))
        defer { Task { try? await client.shutdown() } }
        let authorize = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let location = try #require(authorize.headers.first(name: "Location"))
        if forgingStateFirst {
            var forged = try #require(URLComponents(string: location))
            forged.queryItems = forged.queryItems?.map { $0.name == "state" ? URLQueryItem(name: "state", value: "forged") : $0 }
            let response = try await client.execute(HTTPClientRequest(url: try #require(forged.string)), timeout: .seconds(10))
            recorded.append(Int(response.status.code))
        }
        let response = try await client.execute(HTTPClientRequest(url: location), timeout: .seconds(10))
        recorded.append(Int(response.status.code))
    }
}
