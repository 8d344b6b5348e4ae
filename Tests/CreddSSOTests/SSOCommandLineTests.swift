import CreddCore
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

/// `credd login SESSION` and `credd sso profiles` through the real binary, against the fake
/// Identity Center, with a stand-in browser that follows the redirect back to credd.
@Suite(.serialized) struct SSOCommandLineTests {
    /// The browser: fetches the sign-in URL, follows the fake's redirect to credd's loopback
    /// listener and prints the page credd answered with.
    static let followingBrowser = """
        import sys, urllib.request
        print("browser:", urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip(), file=sys.stderr)
        """

    /// boto3 with the profile in `~/.aws/config`: botocore's SSO provider reads the token credd
    /// wrote, calls GetRoleCredentials, and moto's STS accepts the credentials it got.
    static let boto3CallerIdentity = """
        import sys, boto3
        session = boto3.Session(profile_name="dev-sso")
        print(session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"])
        """

    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
    func pkceLoginOfAProfileWritesATokenBoto3Uses() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let harness = try Harness(fake)
        // The session is in ~/.aws/config only; credd's config names it from a profile.
        try harness.credd.directory.write("home/.aws/config", SSOFixtures.config)
        try harness.credd.writeConfig("[profile dev-sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n")

        let first = try harness.login(["dev-sso"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Signed in to corp: the token is valid until"))
        #expect(first.stderr.contains("browser: Signed in to credd. You can close this tab."))
        #expect(first.stderr.contains("/authorize?response_type=code&client_id="))
        let token = try #require(try harness.cache.load(sessionName: "corp", startURL: corpSession.startURL))
        #expect(token.canRefresh(at: Date()) && token.startURL == corpSession.startURL && token.region == "us-east-1")
        let file = harness.cache.path(sessionName: "corp", startURL: corpSession.startURL)
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
        #expect(try await fake.count("grant authorization_code") == 1)

        // Signing in again reuses the client registration the first sign-in cached.
        let second = try harness.login(["corp"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try await fake.count("POST /client/register") == 1)
        let renewed = try #require(try harness.cache.load(sessionName: "corp", startURL: corpSession.startURL))
        #expect(renewed.accessToken != token.accessToken)

        let arn = try harness.credd.run(
            ["python3", "-c", Self.boto3CallerIdentity, moto.endpoint],
            extra: harness.endpoints.merging(["AWS_CONFIG_FILE": harness.credd.home + "/.aws/config"]) { $1 })
        #expect(arn.status == 0, "\(arn.stderr.suffix(1500))")
        #expect(arn.stdout.contains(":assumed-role/Developer/fake-sso"))
        // The AWS CLI (v1, on botocore's SSO provider) takes the same token.
        if ChildProcess.executable(named: "aws") != nil {
            let cli = try harness.credd.run(
                ["aws", "sts", "get-caller-identity", "--profile", "dev-sso", "--endpoint-url", moto.endpoint, "--output", "text", "--query", "Arn"],
                extra: harness.endpoints.merging(["AWS_CONFIG_FILE": harness.credd.home + "/.aws/config"]) { $1 })
            #expect(cli.status == 0 && cli.stdout.contains(":assumed-role/Developer/fake-sso"), "\(cli.stderr.suffix(1500))")
        }
        #expect(try await fake.count("grant refresh_token") == 0)
        for output in [first, second, arn] {
            expectNoSecrets(output.stdout + output.stderr, [token.accessToken, token.refreshToken, token.clientSecret, renewed.accessToken])
        }
    }

    /// The daemon waits for a sign-in; `credd login corp` is all it takes for the SSO profile
    /// and the role chained from it to be renewed, with no restart and no other command.
    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
    func aRunningDaemonRenewsOnceLoginWroteTheToken() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let harness = try Harness(fake)
        try harness.credd.writeConfig(SSOFixtures.config)
        try harness.credd.start(environment: harness.endpoints)
        defer { _ = try? harness.credd.stop() }
        try harness.credd.waitUntil(timeout: 30) {
            try harness.credd.cli(["status"]).stdout.contains("run `credd login corp`")
        }

        let signedIn = Date()
        let output = try harness.login(["corp"])
        #expect(output.status == 0, "\(output.stderr)")
        try harness.credd.waitUntil(timeout: 15) {
            let file = (try? harness.credd.credentialsFile()) ?? ""
            return file.contains("[dev-sso]") && file.contains("[chained]")
        }
        #expect(Date().timeIntervalSince(signedIn) < 20)
        #expect(try await fake.count("grant refresh_token") == 0, "a fresh token is used as is")
        #expect(try harness.credd.cli(["status"]).status == 0)
        let token = try #require(try harness.cache.load(sessionName: "corp", startURL: corpSession.startURL))
        expectNoSecrets(output.stdout + output.stderr + harness.credd.daemonLog(), [token.accessToken, token.refreshToken, token.clientSecret])
    }

    /// The device flow through `--no-browser`: the URL and the code are shown, CreateToken is
    /// polled through AuthorizationPending and SlowDown (5 s more), and the token lands in the cache.
    @Test func deviceCodeLoginPollsThroughPendingAndSlowDown() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        try await fake.configure(["pending_polls": 1, "slow_down_polls": 1])
        let harness = try Harness(fake)
        try harness.credd.writeConfig(SSOFixtures.config)

        let started = Date()
        let output = try harness.login(["corp", "--no-browser"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("open https://device.sso.fake/ and enter the code ABCD-"))
        #expect(!output.stderr.contains("browser:"))
        // Polls after 1 s (pending), 1 s (slow down), then 6 s.
        #expect(elapsed >= 8 && elapsed < 60)
        #expect(try await fake.count("grant urn:ietf:params:oauth:grant-type:device_code") == 3)
        let token = try #require(try harness.cache.load(sessionName: "corp", startURL: corpSession.startURL))
        #expect(token.canRefresh(at: Date()))
        expectNoSecrets(output.stdout + output.stderr, [token.accessToken, token.refreshToken, token.clientSecret])
    }

    /// `--device-code` (unlike `--no-browser`) also opens the page with the code filled in; the
    /// code expires before anyone approves it, and the sign-in fails with the command to retry.
    @Test func anExpiredDeviceCodeFailsTheLogin() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        try await fake.configure(["expire_device_codes": true])
        let harness = try Harness(fake)
        try harness.credd.writeConfig(SSOFixtures.config)
        let opened = harness.credd.directory.file("opened")
        let recordingBrowser = "sh -c 'echo \"$1\" > \(opened)' browser"
        let output = try harness.credd.cli(
            ["login", "corp", "--device-code"], extra: harness.endpoints.merging(["CREDD_BROWSER": recordingBrowser]) { $1 })
        #expect(output.status == 1)
        #expect(output.stderr.contains("ExpiredTokenException") && output.stderr.contains("expired before it was approved"))
        #expect(output.stderr.contains("credd login corp"))
        #expect(try harness.cache.load(sessionName: "corp", startURL: corpSession.startURL) == nil)
        try harness.credd.waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: opened) }
        #expect(try String(contentsOfFile: opened, encoding: .utf8).hasPrefix("https://device.sso.fake/?user_code=ABCD-"))
    }

    /// A browser command that cannot start, or fails at once, ends the sign-in with the way out.
    @Test(arguments: ["/nonexistent/browser", "false"])
    func aBrowserThatFailsEndsTheLoginAtOnce(browser: String) async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let harness = try Harness(fake)
        try harness.credd.writeConfig(SSOFixtures.config)
        let started = Date()
        let output = try harness.credd.cli(["login", "corp"], extra: harness.endpoints.merging(["CREDD_BROWSER": browser]) { $1 })
        #expect(output.status == 1)
        #expect(output.stderr.contains("cannot open the browser") && output.stderr.contains("--device-code"))
        #expect(Date().timeIntervalSince(started) < 30)
    }

    /// `$BROWSER` as Python's webbrowser reads it: the first of a `:` list, `%s` for the URL.
    @Test func theBrowserVariableIsHonoured() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let harness = try Harness(fake)
        try harness.credd.writeConfig(SSOFixtures.config)
        let script = try harness.credd.directory.write("browser.py", Self.followingBrowser)
        let output = try harness.credd.cli(
            ["login", "corp"], extra: harness.endpoints.merging(["BROWSER": "python3 \(script) %s:firefox"]) { $1 })
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("browser: Signed in to credd."))
    }

    @Test func optionsThatDoNotFitTheNameAreRefused() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeConfig(SSOFixtures.config + "\n\n[profile mfa]\nmfa_serial = arn:aws:iam::111111111111:mfa/me\n")
        let code = try harness.cli(["login", "corp", "--code", "-"], stdin: "123456\n")
        #expect(code.status == 1 && code.stderr.contains("takes no MFA code"))
        let device = try harness.cli(["login", "mfa", "--device-code"])
        #expect(device.status == 1 && device.stderr.contains("are for IAM Identity Center"))
        let missing = try harness.cli(["sso", "profiles", "nosuch"])
        #expect(missing.status == 1 && missing.stderr.contains("no [sso-session nosuch]"))
    }

    /// A config with the quirks people's files have: comments of both kinds, an inline
    /// comment, a profile already taking one of the roles under another name, a section whose
    /// name a generated profile would take, and no newline at the end.
    static let handWrittenConfig =
        "# credd config\n; kept as it is\n" + SSOFixtures.corpSession + "[profile mine]\nsso_session = corp\nsso_account_id = 111111111111\n"
        + "sso_role_name = Developer\n\n[profile dev-ReadOnly]\nrole_arn = arn:aws:iam::111111111111:role/X\n"
        + "source_profile = mine   ; taken by hand"

    /// Pagination with more accounts than a page holds, the blocks printed, `--write` appending
    /// only what is missing with every byte of the file kept, and a second `--write` a no-op.
    @Test func ssoProfilesListsEveryPageAndWritesOnlyTheMissingOnes() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        var accounts: [[String: Any]] = [
            ["accountId": "111111111111", "accountName": "dev", "emailAddress": "dev@example.com", "roles": ["Developer", "ReadOnly"]]
        ]
        // 120 more, two of them sharing a name with spaces in it.
        for index in 0..<120 {
            let name = index < 2 ? "Shared Services" : "acct\(index)"
            accounts.append([
                "accountId": String(format: "2%011d", index), "accountName": name, "emailAddress": "a@example.com", "roles": ["ReadOnly"],
            ])
        }
        try await fake.configure(["accounts": accounts])
        let harness = try Harness(fake)
        try harness.credd.writeConfig(Self.handWrittenConfig)

        let before = try harness.credd.cli(["sso", "profiles", "corp"], extra: harness.endpoints)
        #expect(before.status == 1 && before.stderr.contains("run credd login corp"))

        #expect(try harness.login(["corp", "--no-browser"]).status == 0)
        let listed = try harness.credd.cli(["sso", "profiles", "corp"], extra: harness.endpoints)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.components(separatedBy: "[profile ").count - 1 == 122)
        #expect(listed.stdout.contains("[profile dev-Developer]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n"))
        #expect(listed.stdout.contains("[profile Shared-Services-200000000000-ReadOnly]"))
        #expect(listed.stdout.contains("[profile acct119-200000000119-ReadOnly]") == false)
        #expect(listed.stdout.contains("[profile acct119-ReadOnly]"))
        let pages = try #require((try await fake.state()["last"] as? [String: Any])?["pages"] as? [[String: Any]])
        let accountPages = pages.filter { $0["path"] as? String == "/assignment/accounts" }
        #expect(accountPages.map { $0["max_result"] as? String } == ["100", "100"])
        #expect(accountPages.map { $0["next_token"] as? String } == [nil, "100"])

        let original = try Data(contentsOf: URL(fileURLWithPath: harness.credd.configPath))
        let written = try harness.credd.cli(["sso", "profiles", "corp", "--write"], extra: harness.endpoints)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("120 profiles added, 1 already there, 1 left out"))
        #expect(written.stderr.contains("[profile dev-ReadOnly] exists already"))
        let after = try Data(contentsOf: URL(fileURLWithPath: harness.credd.configPath))
        #expect(after.starts(with: original), "the config's own bytes changed")
        let appended = String(decoding: after.dropFirst(original.count), as: UTF8.self)
        // The last line gets its newline, then a blank line, then the new sections.
        #expect(appended.hasPrefix("\n\n[profile Shared-Services-200000000000-ReadOnly]\nsso_session = corp\n"))
        #expect(!appended.contains("dev-Developer") && !appended.contains("dev-ReadOnly"))

        let again = try harness.credd.cli(["sso", "profiles", "corp", "--write"], extra: harness.endpoints)
        #expect(again.status == 0 && again.stdout.contains("0 profiles added, 121 already there, 1 left out"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: harness.credd.configPath)) == after)
    }

    /// The credd home, the fake's endpoints and the stand-in browser.
    private struct Harness {
        let credd: CreddHarness
        let endpoints: [String: String]
        let browser: String
        var cache: SSOTokenCache { SSOTokenCache(home: credd.home) }

        init(_ fake: FakeSSO) throws {
            credd = try CreddHarness(stsEndpoint: fake.moto?.endpoint)
            endpoints = ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint]
            browser = "python3 " + (try credd.directory.write("browser.py", SSOCommandLineTests.followingBrowser))
        }

        func login(_ arguments: [String]) throws -> ChildProcess.Output {
            try credd.cli(["login"] + arguments, extra: endpoints.merging(["CREDD_BROWSER": browser]) { $1 })
        }
    }
}
