import CreddCore
import CreddPlatform
import CreddRefresh
import CreddSSO
import CreddTestSupport
import Crypto
import Foundation
import InMemoryLogging
import Logging
import Testing

/// Both directions with the SDKs, against the fake and moto: credd refreshes a cache written the
/// way `aws sso login` writes it, then boto3, with profiles in `~/.aws/config`, gets role
/// credentials with the token credd refreshed, directly and through a chained AssumeRole.
@Suite(.serialized) struct SSOInteropTests {
    static let config = SSOFixtures.config

    /// Signs in with boto3's sso-oidc client (device flow) and saves the token with botocore's
    /// own cache writer, five minutes from expiry, with a field credd does not know.
    static let signInAsTheCLIDoes = #"""
        import datetime, os, sys
        import boto3, botocore.tokens, botocore.utils
        from botocore import UNSIGNED
        from botocore.config import Config
        oidc = boto3.client("sso-oidc", endpoint_url=sys.argv[1], config=Config(signature_version=UNSIGNED, region_name="us-east-1"))
        client = oidc.register_client(clientName="botocore-client-abc", clientType="public", scopes=["sso:account:access"])
        device = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                                 startUrl="https://corp.awsapps.com/start")
        token = oidc.create_token(grantType="urn:ietf:params:oauth:grant-type:device_code", clientId=client["clientId"],
                                  clientSecret=client["clientSecret"], deviceCode=device["deviceCode"])
        utc = datetime.timezone.utc
        cache = botocore.utils.JSONFileCache(os.path.expanduser("~/.aws/sso/cache"), dumps_func=botocore.tokens._sso_json_dumps)
        botocore.utils.SSOTokenLoader(cache=cache).save_token("https://corp.awsapps.com/start", {
            "startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": token["accessToken"],
            "expiresAt": datetime.datetime.now(utc) + datetime.timedelta(minutes=5),
            "clientId": client["clientId"], "clientSecret": client["clientSecret"],
            "registrationExpiresAt": datetime.datetime.fromtimestamp(client["clientSecretExpiresAt"], utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "refreshToken": token["refreshToken"], "fromTheCLI": "kept"}, session_name="corp")
        """#

    /// boto3 resolves both profiles from `~/.aws/config` and calls moto's STS with what it got.
    static let callerIdentities = #"""
        import json, sys, boto3
        out = {}
        for profile in ("dev-sso", "chained"):
            session = boto3.Session(profile_name=profile)
            out[profile] = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"]
        print(json.dumps(out))
        """#

    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
    func creddRefreshesTheCLIsCacheAndBoto3UsesIt() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let home = try TemporaryDirectory()
        try home.write(".aws/config", Self.config)
        var environment = FakeSSO.pythonEnvironment
        environment["HOME"] = home.path
        environment["AWS_CONFIG_FILE"] = home.file(".aws/config")
        environment["AWS_ENDPOINT_URL_SSO"] = fake.endpoint
        environment["AWS_ENDPOINT_URL_SSO_OIDC"] = fake.endpoint
        try await python(Self.signInAsTheCLIDoes, [fake.endpoint], environment)
        let cache = SSOTokenCache(home: home.path)
        let written = try #require(try cache.load(sessionName: "corp", startURL: corpSession.startURL))

        // credd's keeper finds five minutes left, refreshes at once and rewrites the file.
        let logs = InMemoryLogHandler()
        let published = Recorder<SSOToken?>()
        let keeper = SSOTokenKeeper(
            session: corpSession, cache: cache, oidc: fake.oidc, wallClock: SystemWallClock(), logger: .recording(into: logs)
        ) { published.append($0) }
        await keeper.send(.tick)
        let refreshed = try #require(await keeper.token)
        #expect(refreshed.accessToken != written.accessToken)
        #expect(refreshed.expiresAt.timeIntervalSinceNow > 3500)
        #expect(try await fake.count("grant refresh_token") == 1)
        #expect(published.entries.map { $0?.accessToken } == [written.accessToken, refreshed.accessToken])
        let reread = try #require(try cache.load(sessionName: "corp", startURL: corpSession.startURL))
        #expect(reread == refreshed)
        #expect(reread.otherFields["fromTheCLI"] == .string("kept"))
        #expect(await SSOTokenKeeper.name(of: keeper.status.state) == "fresh")

        // boto3 takes the refreshed token from the cache (more than 15 minutes left: no refresh of
        // its own), calls GetRoleCredentials with it, and moto accepts the minted credentials.
        environment["AWS_ENDPOINT_URL_STS"] = moto.endpoint
        let output = try await python(Self.callerIdentities, [moto.endpoint], environment)
        let arns = try JSONDecoder().decode([String: String].self, from: Data(output.utf8))
        #expect(arns["dev-sso"]?.hasSuffix(":assumed-role/Developer/fake-sso") == true)
        #expect(arns["chained"]?.contains(":assumed-role/Chained/") == true)
        let used = try #require(
            ((try await fake.state()["last"] as? [String: Any])?["role_credentials"] as? [String: Any])?["token_sha256"] as? String)
        #expect(used == SHA256.hash(data: Array(refreshed.accessToken.revealed.utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(try await fake.count("grant refresh_token") == 1)

        expectNoSecrets(
            logs.renderedText, [written.accessToken, written.refreshToken, written.clientSecret, refreshed.accessToken, refreshed.refreshToken])
        #expect(logs.renderedText.contains("credd.sso_session=corp"))
    }

    /// The session ends: the keeper says so once, in the log with the command to run, and keeps
    /// the still-valid token in service until it expires.
    @Test func anEndedSessionIsLoggedAsNeedsLogin() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        let (token, wallClock) = try await signInOnAManualClock(fake, cache: cache)
        try await fake.endSession()
        let logs = InMemoryLogHandler()
        let keeper = SSOTokenKeeper(session: corpSession, cache: cache, oidc: fake.oidc, wallClock: wallClock, logger: .recording(into: logs)) { _ in
        }
        await keeper.send(.tick)
        await keeper.send(.manualRefresh)
        await keeper.send(.tick)
        #expect(await keeper.status.state == .needsLogin(.sessionEnded))
        #expect(await keeper.token == token)
        let warnings = logs.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.description == "sign-in needed: run credd login corp")
        expectNoSecrets(logs.renderedText, [token.accessToken, token.refreshToken, token.clientSecret])
    }

    @discardableResult
    private func python(_ script: String, _ arguments: [String], _ environment: [String: String]) async throws -> String {
        let result = try await ChildProcess.runOnDedicatedThread(["python3", "-c", script] + arguments, environment: environment, timeout: 120)
        try #require(result.status == 0, "\(result.stderr.suffix(1500))")
        return result.stdout
    }
}

/// The simulated day again, with the real keeper, token cache and wire: a device-code sign-in
/// and every CreateToken and GetRoleCredentials against the fake, on a manual clock.
@Suite(.serialized) struct SSOSimulatedDayTests {
    @Test("a day: 1 h tokens, a 12 h session, 1 h role credentials: no sign-in until the session ends, one refresh per token, > 15 min always left")
    func aDayWithTheRealKeeper() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        let (_, wallClock) = try await signInOnAManualClock(fake, cache: cache)
        let keeper = SSOTokenKeeper(
            session: corpSession, cache: cache, oidc: fake.oidc, wallClock: wallClock, logger: .recording(into: InMemoryLogHandler())
        ) { _ in }

        let start = wallClock.now()
        let sessionEnd = start.addingTimeInterval(12 * 3600)
        let end = start.addingTimeInterval(24 * 3600)
        var role = ProfileRefreshMachine(spec: ProfileSpec(name: "dev-sso", identity: "dev-sso", fingerprint: ConfigurationFingerprint("dev-sso")))
        var random = SplitMix64(seed: 5)
        var ended = false
        var needsLoginAt: Date?
        var minimumLeft = TimeInterval.infinity
        var steps = 0
        await keeper.send(.tick)
        while wallClock.now() < end, steps < 5_000 {
            steps += 1
            let tokenDeadline = await keeper.status.nextDeadline ?? end
            var next = max(wallClock.now(), min(tokenDeadline, role.nextDeadline ?? end, end))
            if !ended, next >= sessionEnd {
                next = sessionEnd
                try await fake.endSession()
                ended = true
            }
            wallClock.set(next)
            await keeper.send(.tick)
            var actions = role.handle(.tick, now: next, using: &random)
            while let action = actions.first {
                actions.removeFirst()
                guard case .renew = action else { continue }
                if let token = await keeper.token {
                    let issued = try await fake.portal.roleCredentials(
                        accountId: "111111111111", roleName: "Developer", accessToken: token.accessToken)
                    // The fake's expiry is on the real clock; the role lasts 1 h of the simulated one.
                    let credentials = AWSCredentials(
                        accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken,
                        expiration: next.addingTimeInterval(3600))
                    actions += role.handle(.renewalSucceeded(credentials), now: next, using: &random)
                } else {
                    actions += role.handle(
                        .renewalFailed(RefreshFailure(disposition: .needsLogin, message: "credd login corp")), now: next, using: &random)
                }
            }
            if case .needsLogin = await keeper.status.state, needsLoginAt == nil { needsLoginAt = next }
            if next < sessionEnd, let expiration = role.servedCredentials(at: next)?.expiration {
                minimumLeft = min(minimumLeft, expiration.timeIntervalSince(next))
            }
        }
        #expect(steps < 5_000)
        #expect(try #require(needsLoginAt) >= sessionEnd, "no sign-in before the session ends")
        #expect(role.status == .needsLogin, "the role waits for the sign-in")
        let refreshes = try await fake.count("grant refresh_token")
        // One refresh per token period: about every 40 minutes for 12 hours, plus the refused one.
        #expect((17...20).contains(refreshes), "\(refreshes) refreshes")
        #expect(minimumLeft > 15 * 60, "role credentials had \(minimumLeft) s left")
        #expect(try await fake.count("grant urn:ietf:params:oauth:grant-type:device_code") == 1, "one sign-in all day")
        print(
            "simulated day: \(refreshes) token refreshes, role credentials always \(Int(minimumLeft / 60))+ min left, needs_login at +\((needsLoginAt?.timeIntervalSince(start) ?? 0) / 3600) h"
        )
    }
}

/// A device-code sign-in against `fake`, on a manual clock that the sign-in's polls advance.
func signInOnAManualClock(_ fake: FakeSSO, cache: SSOTokenCache) async throws -> (SSOToken, ManualWallClock) {
    let clock = TestClock(wallClock: ManualWallClock(Date()))
    let wallClock = try #require(clock.wallClock)
    let sleeps = SleepDriver(clock: clock)
    let token = try await SSOLogin(oidc: fake.oidc, cache: cache, wallClock: wallClock).loginWithDeviceCode(corpSession, clock: clock) { _ in }
    _ = await sleeps.stop()
    return (token, wallClock)
}
