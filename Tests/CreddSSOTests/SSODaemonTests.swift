import CreddCore
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

/// The real `credd` binary with IAM Identity Center profiles, against the fake sso-oidc and
/// portal whose GetRoleCredentials mints real session credentials from moto.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
struct SSODaemonTests {
    static let config = SSOFixtures.config

    /// boto3 calls moto's STS with what credd wrote in the credentials file.
    static let callerIdentities = #"""
        import json, sys, boto3
        out = {}
        for profile in ("dev-sso", "chained"):
            out[profile] = boto3.Session(profile_name=profile).client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"]
        print(json.dumps(out))
        """#

    /// Signs in as `aws sso login` does, leaving `minutes` on the access token.
    private func signInAsTheCLIDoes(_ fake: FakeSSO, home: String, minutes: Int) async throws {
        var environment = FakeSSO.pythonEnvironment
        environment["HOME"] = home
        let script = SSOInteropTests.signInAsTheCLIDoes.replacingOccurrences(of: "minutes=5", with: "minutes=\(minutes)")
        try await python(script, [fake.endpoint], environment)
    }

    private func cachedToken(_ harness: CreddHarness) throws -> SSOToken? {
        try SSOTokenCache(home: harness.home).load(sessionName: "corp", startURL: corpSession.startURL)
    }

    private func status(_ harness: CreddHarness) throws -> (json: [String: Any], text: String) {
        let output = try harness.cli(["status", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.stderr)")
        // Before the daemon listens, the answer is an error object of its own.
        if json["daemon"] != nil {
            let violation = try harness.statusSchemaViolation(output.stdout)
            #expect(violation == nil, "\(violation ?? "")")
        }
        return (json, output.stdout + output.stderr)
    }

    @Test("credd refreshes the AWS CLI's cached token, renews the SSO profile and a role chained from it; boto3 signs calls with both")
    func renewsFromTheCLIsCache() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try await signInAsTheCLIDoes(fake, home: harness.home, minutes: 5)
        let written = try #require(try cachedToken(harness))
        try harness.writeConfig(Self.config)
        try harness.start(environment: ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint])
        defer { _ = try? harness.stop() }

        try harness.waitUntil(timeout: 60) {
            let file = (try? harness.credentialsFile()) ?? ""
            return file.contains("[dev-sso]") && file.contains("[chained]")
        }
        // Five minutes left: refreshed at once, once, in the file the CLI reads, its fields kept.
        let refreshed = try #require(try cachedToken(harness))
        #expect(refreshed.accessToken != written.accessToken)
        #expect(refreshed.expiresAt.timeIntervalSinceNow > 3000)
        #expect(refreshed.otherFields["fromTheCLI"] == .string("kept"))
        #expect(try await fake.count("grant refresh_token") == 1)
        let path = SSOTokenCache(home: harness.home).path(sessionName: "corp", startURL: corpSession.startURL)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)

        let output = try await python(Self.callerIdentities, [moto.endpoint], harness.environment)
        let arns = try JSONDecoder().decode([String: String].self, from: Data(output.utf8))
        #expect(arns["dev-sso"]?.hasSuffix(":assumed-role/Developer/fake-sso") == true)
        #expect(arns["chained"]?.contains(":assumed-role/Chained/") == true)

        let (json, text) = try status(harness)
        let sessions = try #require(json["sso_sessions"] as? [[String: Any]])
        #expect(sessions.count == 1)
        #expect(sessions.first?["name"] as? String == "corp")
        #expect(sessions.first?["state"] as? String == "fresh")
        #expect(sessions.first?["can_refresh"] as? Bool == true)
        #expect(sessions.first?["token_expiration"] as? String == AWSTimestamp.format(refreshed.expiresAt))
        #expect(sessions.first?["registration_expiration"] is String)
        let profiles = try #require(json["profiles"] as? [[String: Any]])
        #expect(profiles.map { $0["state"] as? String } == ["fresh", "fresh"])
        #expect(profiles.first { $0["name"] as? String == "dev-sso" }?["source"] as? String == "sso-session corp")
        let table = try harness.cli(["status"]).stdout
        #expect(table.contains("IAM Identity Center sessions:"))
        #expect(table.contains("corp  fresh, token expires in "))

        let secrets = [written.accessToken, written.refreshToken, written.clientSecret, refreshed.accessToken, refreshed.refreshToken]
        expectNoSecrets(text + table + harness.daemonLog(), secrets)
    }

    @Test("without a token the session needs a sign-in, shown with `credd login corp`; a new token in the cache renews at once")
    func needsLoginUntilATokenAppears() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try harness.writeConfig(Self.config)
        let notifications = try DatagramListener(path: harness.directory.file("notify.sock"))
        try harness.start(environment: [
            "AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint, "NOTIFY_SOCKET": notifications.path,
        ])
        defer { _ = try? harness.stop() }
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("IAM Identity Center sign-in needed: credd login corp") }

        var sessions: [[String: Any]] = []
        try harness.waitUntil(timeout: 30) {
            sessions = (try status(harness).json["sso_sessions"] as? [[String: Any]]) ?? []
            return sessions.first?["state"] as? String == "needs_login"
        }
        let action = try #require(sessions.first?["action"] as? [String: Any])
        #expect(action["kind"] as? String == "login")
        #expect(action["command"] as? String == "credd login corp")
        var profiles: [[String: Any]] = []
        try harness.waitUntil(timeout: 30) {
            profiles = (try status(harness).json["profiles"] as? [[String: Any]]) ?? []
            return profiles.allSatisfy { ($0["action"] as? [String: Any])?["kind"] as? String == "login" }
        }
        let chained = try #require(profiles.first { $0["name"] as? String == "chained" }?["action"] as? [String: Any])
        #expect(chained["profile"] as? String == "dev-sso")
        #expect(chained["command"] as? String == "credd login corp")
        let table = try harness.cli(["status"])
        #expect(table.status != 0)
        #expect(table.stdout.contains("chained: needs an IAM Identity Center sign-in for dev-sso: run `credd login\n    corp`"), "\(table.stdout)")
        #expect(harness.daemonLog().contains("sign-in needed: run credd login corp"))

        // `aws sso login` in another terminal: the daemon reads the new file and renews at once.
        let signedIn = Date()
        try await signInAsTheCLIDoes(fake, home: harness.home, minutes: 50)
        try harness.waitUntil(timeout: 15) {
            let file = (try? harness.credentialsFile()) ?? ""
            return file.contains("[dev-sso]") && file.contains("[chained]")
        }
        let pickup = Date().timeIntervalSince(signedIn)
        #expect(pickup < 15)
        try notifications.waitFor { $0.hasPrefix("STATUS=") && !$0.contains("sign-in needed") && $0.contains("2 fresh") }
        #expect(try await fake.count("grant refresh_token") == 0, "50 minutes left: used as is")
        let (json, text) = try status(harness)
        #expect((json["sso_sessions"] as? [[String: Any]])?.first?["action"] is NSNull)
        let token = try #require(try cachedToken(harness))
        expectNoSecrets(text + table.stdout + harness.daemonLog(), [token.accessToken, token.refreshToken, token.clientSecret])
        print("sign-in picked up and both profiles renewed in \(String(format: "%.2f", pickup)) s")
    }

    @Test(
        "an SSO profile without a token is needs_login, naming `credd login corp` everywhere, its chained role waiting on it; `credd login corp` makes both fresh"
    )
    func needsLoginThenFreshAfterCreddLogin() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try harness.writeConfig(Self.config)
        let endpoints = ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint]
        let notifications = try DatagramListener(path: harness.directory.file("notify.sock"))
        try harness.start(environment: endpoints.merging(["NOTIFY_SOCKET": notifications.path]) { $1 })
        defer { _ = try? harness.stop() }

        var profiles: [[String: Any]] = []
        try harness.waitUntil(timeout: 30) {
            profiles = (try status(harness).json["profiles"] as? [[String: Any]]) ?? []
            return profiles.first { $0["name"] as? String == "dev-sso" }?["state"] as? String == "needs_login"
        }
        let dev = try #require(profiles.first { $0["name"] as? String == "dev-sso" })
        let devAction = try #require(dev["action"] as? [String: Any])
        #expect(devAction["kind"] as? String == "login" && devAction["command"] as? String == "credd login corp")
        #expect(dev["next_refresh"] is NSNull, "no retries while it waits for a sign-in")
        let chained = try #require(profiles.first { $0["name"] as? String == "chained" })
        #expect(chained["state"] as? String != "needs_login" && chained["state"] as? String != "error", "it waits on its source")
        #expect((chained["action"] as? [String: Any])?["profile"] as? String == "dev-sso")
        #expect((chained["action"] as? [String: Any])?["command"] as? String == "credd login corp")
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("1 needs sign-in (dev-sso: credd login corp)") }
        let table = try harness.cli(["status"])
        #expect(table.status != 0)
        #expect(table.stdout.contains("needs_login"), "\(table.stdout)")
        let list = try harness.cli(["list"])
        #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix("dev-sso") && $0.hasSuffix("needs_login") }, "\(list.stdout)")
        let journal = harness.daemonLog().split(separator: "\n").filter { $0.contains("dev-sso: needs an IAM Identity Center sign-in") }
        #expect(!journal.isEmpty && journal.allSatisfy { $0.contains("credd login corp") && !$0.contains("credd refresh") }, "\(journal)")

        // The device-code flow; the fake approves at the first poll. The daemon reads the new token.
        let login = try harness.cli(["login", "corp", "--no-browser"], extra: endpoints)
        #expect(login.status == 0, "\(login.stderr)")
        try harness.waitUntil(timeout: 15) {
            let states = ((try status(harness).json["profiles"] as? [[String: Any]]) ?? []).map { $0["state"] as? String }
            return states == ["fresh", "fresh"]
        }
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("2 fresh") && !$0.contains("sign-in") }
        let token = try #require(try cachedToken(harness))
        expectNoSecrets(
            table.stdout + list.stdout + login.stdout + login.stderr + harness.daemonLog(),
            [token.accessToken, token.refreshToken, token.clientSecret])
    }

    @Test("an ended Identity Center session needs a sign-in while the credentials in service stay; an unassigned role is an error naming it")
    func endedSessionAndUnassignedRole() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try await signInAsTheCLIDoes(fake, home: harness.home, minutes: 50)
        try harness.writeConfig(
            Self.config + """

                [profile unassigned]
                sso_session = corp
                sso_account_id = 111111111111
                sso_role_name = NotAssigned
                """)
        try harness.start(environment: ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint])
        defer { _ = try? harness.stop() }

        var profiles: [[String: Any]] = []
        try harness.waitUntil(timeout: 60) {
            profiles = (try status(harness).json["profiles"] as? [[String: Any]]) ?? []
            return profiles.filter { $0["state"] as? String == "fresh" }.count == 2
                && profiles.contains { $0["name"] as? String == "unassigned" && $0["state"] as? String == "error" }
        }
        let unassigned = try #require(profiles.first { $0["name"] as? String == "unassigned" })
        let message = try #require(unassigned["error"] as? String)
        #expect(message.contains("GetRoleCredentials for NotAssigned in 111111111111") && message.contains("ForbiddenException"), "\(message)")
        #expect(message.contains("check sso_account_id and sso_role_name: the role is not assigned to this user"))

        // The session ends; `credd refresh` tries the refresh token at once and learns it.
        try await fake.endSession()
        let before = try harness.credentialsFile()
        let refresh = try harness.cli(["refresh", "dev-sso"])
        #expect(refresh.status == 0, "the role credentials still renew with the valid token: \(refresh.stderr)")
        let (json, text) = try status(harness)
        let session = try #require((json["sso_sessions"] as? [[String: Any]])?.first)
        #expect(session["state"] as? String == "needs_login")
        #expect((session["error"] as? String)?.contains("the Identity Center session ended") == true)
        #expect((session["action"] as? [String: Any])?["command"] as? String == "credd login corp")
        profiles = (json["profiles"] as? [[String: Any]]) ?? []
        let dev = try #require(profiles.first { $0["name"] as? String == "dev-sso" })
        #expect(dev["state"] as? String == "fresh", "the credentials in service stay")
        #expect((dev["action"] as? [String: Any])?["kind"] as? String == "login")
        #expect(try harness.credentialsFile().contains("[dev-sso]") && before.contains("[dev-sso]"))
        #expect(harness.daemonLog().contains("sign-in needed: run credd login corp"))

        let token = try #require(try cachedToken(harness))
        expectNoSecrets(text + refresh.stdout + refresh.stderr + harness.daemonLog(), [token.accessToken, token.refreshToken, token.clientSecret])
    }

    @Test("a config edit that adds SSO profiles starts their session; removing them stops it")
    func reloadStartsAndStopsSessions() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try await signInAsTheCLIDoes(fake, home: harness.home, minutes: 50)
        try harness.writeConfig(SSOFixtures.corpSession)
        try harness.start(environment: ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint])
        defer { _ = try? harness.stop() }
        try harness.waitUntil(timeout: 15) { try harness.cli(["status", "--json"]).status != 3 }
        #expect((try status(harness).json["sso_sessions"] as? [Any])?.isEmpty == true, "a session no profile uses is not kept")

        try harness.writeConfig(Self.config)
        try harness.waitUntil(timeout: 30) {
            let file = (try? harness.credentialsFile()) ?? ""
            return file.contains("[dev-sso]") && file.contains("[chained]")
        }
        #expect((try status(harness).json["sso_sessions"] as? [[String: Any]])?.first?["state"] as? String == "fresh")

        try harness.writeConfig(SSOFixtures.corpSession)
        try harness.waitUntil(timeout: 30) { (try status(harness).json["sso_sessions"] as? [Any])?.isEmpty == true }
        #expect(try await fake.count("grant refresh_token") == 0)
    }

    @Test("a restarted daemon adopts the SSO profile's role credentials instead of calling GetRoleCredentials again")
    func restartAdoptsRoleCredentials() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try await signInAsTheCLIDoes(fake, home: harness.home, minutes: 50)
        try harness.writeConfig(Self.config)
        let environment = ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint]
        try harness.start(environment: environment)
        try harness.waitUntil(timeout: 30) {
            let file = (try? harness.credentialsFile()) ?? ""
            return file.contains("[dev-sso]") && file.contains("[chained]")
        }
        let calls = try await fake.count("GET /federation/credentials")
        #expect(calls == 1)
        let written = try harness.credentialsFile()
        #expect(try harness.stop() == 0)

        try harness.start(environment: environment)
        defer { _ = try? harness.stop() }
        try harness.waitUntil(timeout: 30) {
            ((try? status(harness).json["profiles"] as? [[String: Any]]) ?? []).map { $0["state"] as? String } == ["fresh", "fresh"]
        }
        #expect(try await fake.count("GET /federation/credentials") == calls)
        #expect(try harness.credentialsFile() == written)
    }

    /// A legacy `aws sso login` (a client registered without scopes: no refresh token), saved
    /// under the start URL's hash with `seconds` left.
    static let legacySignIn = #"""
        import datetime, os, sys
        import boto3, botocore.tokens, botocore.utils
        from botocore import UNSIGNED
        from botocore.config import Config
        oidc = boto3.client("sso-oidc", endpoint_url=sys.argv[1], config=Config(signature_version=UNSIGNED, region_name="us-east-1"))
        client = oidc.register_client(clientName="botocore-client-legacy", clientType="public")
        device = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                                 startUrl="https://legacy.awsapps.com/start")
        token = oidc.create_token(grantType="urn:ietf:params:oauth:grant-type:device_code", clientId=client["clientId"],
                                  clientSecret=client["clientSecret"], deviceCode=device["deviceCode"])
        assert "refreshToken" not in token
        cache = botocore.utils.JSONFileCache(os.path.expanduser("~/.aws/sso/cache"), dumps_func=botocore.tokens._sso_json_dumps)
        botocore.utils.SSOTokenLoader(cache=cache).save_token("https://legacy.awsapps.com/start", {
            "startUrl": "https://legacy.awsapps.com/start", "region": "us-east-1", "accessToken": token["accessToken"],
            "expiresAt": datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(sys.argv[2]))})
        """#

    @Test("a legacy profile uses the CLI's token as is, shows when a sign-in is due, and needs one (`credd login old`) once it expires")
    func legacyProfile() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        var environment = FakeSSO.pythonEnvironment
        environment["HOME"] = harness.home
        try await python(Self.legacySignIn, [fake.endpoint, "20"], environment)
        let token = try #require(try SSOTokenCache(home: harness.home).load(sessionName: nil, startURL: "https://legacy.awsapps.com/start"))
        try harness.writeConfig(
            """
            [profile old]
            sso_start_url = https://legacy.awsapps.com/start
            sso_region = us-east-1
            sso_account_id = 111111111111
            sso_role_name = ReadOnly
            """)
        try harness.start(environment: ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint])
        defer { _ = try? harness.stop() }

        try harness.waitUntil(timeout: 15) { ((try? harness.credentialsFile()) ?? "").contains("[old]") }
        var session = try #require((try status(harness).json["sso_sessions"] as? [[String: Any]])?.first)
        #expect(session["name"] as? String == "https://legacy.awsapps.com/start")
        #expect(session["can_refresh"] as? Bool == false)
        #expect(session["login_needed_at"] as? String == AWSTimestamp.format(token.expiresAt), "the sign-in is due when the token expires")
        #expect(session["action"] is NSNull)

        try harness.waitUntil(timeout: 40) {
            session = (try status(harness).json["sso_sessions"] as? [[String: Any]])?.first ?? [:]
            return session["state"] as? String == "needs_login"
        }
        #expect((session["action"] as? [String: Any])?["command"] as? String == "credd login old")
        #expect(harness.daemonLog().contains("sign-in needed: run credd login old"))
        let profile = try #require((try status(harness).json["profiles"] as? [[String: Any]])?.first)
        #expect(profile["state"] as? String == "fresh", "the role credentials obtained earlier stay in service")
        #expect((profile["action"] as? [String: Any])?["command"] as? String == "credd login old")
        #expect(try await fake.count("grant refresh_token") == 0)
        expectNoSecrets(try status(harness).text + harness.daemonLog(), [token.accessToken])
    }

    @discardableResult
    private func python(_ script: String, _ arguments: [String], _ environment: [String: String]) async throws -> String {
        let result = try await ChildProcess.runOnDedicatedThread(["python3", "-c", script] + arguments, environment: environment, timeout: 120)
        try #require(result.status == 0, "\(result.stderr.suffix(1500))")
        return result.stdout
    }
}
