import CreddConfig
import CreddTestSupport
import Testing

@Suite("IAM Identity Center config")
struct SSOConfigTests {
    static let session = SSOFixtures.corpSession

    static let profile = """
        [profile dev-sso]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = Developer
        region = eu-west-1

        """

    @Test("an sso-session and a profile using it resolve into an .sso profile")
    func namedSession() throws {
        let loaded = try FakeHome(config: Self.session + Self.profile).load()
        #expect(loaded.errors == [])
        let profile = try #require(loaded.profile(named: "dev-sso"))
        #expect(profile.kind == .sso(accountId: "123456789012", roleName: "Developer"))
        let session = try #require(profile.ssoSession)
        #expect(session.name == "corp")
        #expect(session.startURL == "https://corp.awsapps.com/start")
        #expect(session.region == "us-east-1")
        #expect(session.registrationScopes == ["sso:account:access"])
        #expect(session.location == SourceLocation(file: FakeHome.configPath, line: 1))
        #expect(session.limitation == nil && session.shadows == nil)
        #expect(profile.region == "eu-west-1")
        #expect(profile.sourceChain == ["dev-sso"])
        #expect(loaded.ssoSessions == [session])
        #expect(loaded.ssoSession(named: "corp") == session)
        #expect(loaded.ssoSession(named: "dev-sso") == session, "credd login takes a profile name too")
        #expect(loaded.ssoSession(named: "nope") == nil)
    }

    @Test("sessions are read from ~/.aws/config too; credd's own wins on a clash, and check says so")
    func awsConfigSessions() throws {
        let awsConfig = """
            [sso-session corp]
            sso_start_url = https://other.awsapps.com/start
            sso_region = eu-west-1
            some_cli_key = kept for the CLI

            [sso-session team]
            sso_start_url = https://team.awsapps.com/start
            sso_region = eu-central-1
            sso_registration_scopes = sso:account:access
            sso_future_key = ignored

            """
        let config =
            Self.session + Self.profile + """
                [profile team-admin]
                sso_session = team
                sso_account_id = 210987654321
                sso_role_name = AdministratorAccess

                """
        let loaded = try FakeHome(config: config, awsConfig: awsConfig).load()
        #expect(loaded.errors == [])
        let corp = try #require(loaded.ssoSession(named: "corp"))
        #expect(corp.startURL == "https://corp.awsapps.com/start")
        #expect(corp.shadows == SourceLocation(file: FakeHome.awsConfigPath, line: 1))
        let team = try #require(loaded.ssoSession(named: "team-admin"))
        #expect(team.name == "team" && team.region == "eu-central-1" && team.location.file == FakeHome.awsConfigPath)
        #expect(loaded.ssoSessions.map(\.name) == ["corp", "team"])
        let report = ConfigCheckReport.render(loaded)
        #expect(report.contains("hides the one of the same name at \(FakeHome.awsConfigPath):1"))
        #expect(report.contains("IAM Identity Center role AdministratorAccess in account 210987654321"))
    }

    @Test("the legacy form works, and check shows its limits")
    func legacyForm() throws {
        let loaded = try FakeHome(
            config: """
                [profile old]
                sso_start_url = https://corp.awsapps.com/start
                sso_region = us-east-1
                sso_account_id = 123456789012
                sso_role_name = ReadOnly
                """
        ).load()
        #expect(loaded.errors == [])
        let session = try #require(loaded.profile(named: "old")?.ssoSession)
        #expect(session.name == nil && session.displayName == "https://corp.awsapps.com/start")
        #expect(session.limitation != nil)
        #expect(loaded.ssoSessions.isEmpty)
        #expect(loaded.ssoSession(named: "old") == session)
        let report = ConfigCheckReport.render(loaded)
        #expect(report.contains("legacy sso_start_url form: the token has no refresh token"))
    }

    @Test("a session without scopes is flagged as not refreshable")
    func noScopes() throws {
        let loaded = try FakeHome(
            config: """
                [sso-session corp]
                sso_start_url = https://corp.awsapps.com/start
                sso_region = us-east-1

                """ + Self.profile
        ).load()
        #expect(loaded.errors == [])
        #expect(loaded.ssoSession(named: "corp")?.limitation != nil)
        #expect(ConfigCheckReport.render(loaded).contains("no sso_registration_scopes"))
    }

    @Test("a role chained from an SSO profile resolves; AWS's one-hour chaining limit applies")
    func chainedRole() throws {
        let chained = """
            [profile prod]
            source_profile = dev-sso
            role_arn = arn:aws:iam::222222222222:role/Deployer

            [profile long]
            source_profile = dev-sso
            role_arn = arn:aws:iam::222222222222:role/Deployer
            duration_seconds = 7200

            [profile gst]
            source_profile = dev-sso

            """
        let loaded = try FakeHome(config: Self.session + Self.profile + chained).load()
        #expect(loaded.profiles.map(\.name) == ["dev-sso", "prod"])
        let prod = try #require(loaded.profile(named: "prod"))
        #expect(prod.source == .managed("dev-sso"))
        #expect(prod.sourceChain == ["prod", "dev-sso"])
        #expect(prod.ssoSession == nil)
        let long = try #require(loaded.errors(for: "long").first)
        #expect(long.key == "duration_seconds" && long.message.contains("role chaining"))
        #expect(loaded.errors(for: "gst").first?.message.contains("GetSessionToken") == true)
    }

    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let config: String
        let profile: String?
        let ssoSession: String?
        let line: Int
        let key: String?
        let message: String
    }

    static let broken: [Case] = [
        Case(
            description: "unknown session", config: Self.profile, profile: "dev-sso", ssoSession: nil, line: 2, key: "sso_session",
            message: "no [sso-session corp] in \(FakeHome.configPath) or \(FakeHome.awsConfigPath)"),
        Case(
            description: "session misspelt", config: Self.session + Self.profile.replacingEvery("= corp", with: "= corpp"), profile: "dev-sso",
            ssoSession: nil, line: 6,
            key: "sso_session", message: "did you mean 'corp'?"),
        Case(
            description: "session without region", config: "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\n" + Self.profile,
            profile: nil, ssoSession: "corp", line: 1, key: "sso_region", message: "missing"),
        Case(
            description: "session with an unknown key", config: Self.session.replacingEvery("sso_region", with: "sso_regoin"),
            profile: nil, ssoSession: "corp", line: 3, key: "sso_regoin", message: "did you mean 'sso_region'?"),
        Case(
            description: "plain http start URL", config: Self.session.replacingEvery("https://corp", with: "http://corp"),
            profile: nil, ssoSession: "corp", line: 2, key: "sso_start_url", message: "expected an https URL"),
        Case(
            description: "profile of a broken session",
            config: "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\n" + Self.profile,
            profile: "dev-sso", ssoSession: nil, line: 5, key: "sso_session", message: "[sso-session corp] at \(FakeHome.configPath):1 has errors"),
        Case(
            description: "sso and source_profile", config: Self.session + Self.profile + "source_profile = alice-long-term\n", profile: "dev-sso",
            ssoSession: nil, line: 10, key: "source_profile", message: "either signs in with IAM Identity Center"),
        Case(
            description: "role_arn on an SSO profile", config: Self.session + Self.profile + "role_arn = arn:aws:iam::222222222222:role/X\n",
            profile: "dev-sso", ssoSession: nil, line: 10, key: "role_arn", message: "does not apply to an IAM Identity Center profile"),
        Case(
            description: "bad account id", config: Self.session + Self.profile.replacingEvery("123456789012", with: "1234"), profile: "dev-sso",
            ssoSession: nil, line: 7, key: "sso_account_id", message: "12-digit"),
        Case(
            description: "no role name", config: Self.session + Self.profile.replacingEvery("sso_role_name = Developer\n", with: ""),
            profile: "dev-sso", ssoSession: nil, line: 5, key: "sso_role_name", message: "missing"),
        Case(
            description: "legacy form without region",
            config: "[profile old]\nsso_start_url = https://corp.awsapps.com/start\nsso_account_id = 123456789012\nsso_role_name = R\n",
            profile: "old", ssoSession: nil, line: 1, key: "sso_region", message: "missing"),
        Case(
            description: "start URL disagreeing with the session",
            config: Self.session + Self.profile + "sso_start_url = https://x.awsapps.com/start\n",
            profile: "dev-sso", ssoSession: nil, line: 10, key: "sso_start_url", message: "differs from"),
        Case(
            description: "scopes on a profile", config: Self.session + Self.profile + "sso_registration_scopes = sso:account:access\n",
            profile: "dev-sso", ssoSession: nil, line: 10, key: "sso_registration_scopes", message: "belongs in the [sso-session NAME] section"),
    ]

    @Test("errors name the file, line, profile or session, and key", arguments: broken)
    func errors(_ broken: Case) throws {
        let loaded = try FakeHome(config: broken.config, credentials: FakeHome.longTermCredentials).load()
        let error = try #require(loaded.errors.first { $0.key == broken.key }, "\(loaded.errors)")
        #expect(error.file == FakeHome.configPath)
        #expect(error.line == broken.line)
        #expect(error.profile == broken.profile)
        #expect(error.ssoSession == broken.ssoSession)
        #expect(error.message.contains(broken.message), "\(error)")
        if let session = broken.ssoSession { #expect(error.description.contains("[sso-session \(session)]")) }
    }

    @Test("a broken session in ~/.aws/config is reported on the profile that uses it")
    func brokenAWSConfigSession() throws {
        let loaded = try FakeHome(config: Self.profile, awsConfig: "[sso-session corp]\nsso_region = us-east-1\n").load()
        let error = try #require(loaded.errors(for: "dev-sso").first)
        #expect(error.message.contains("[sso-session corp] at \(FakeHome.awsConfigPath):1 has errors"))
        #expect(error.message.contains("sso_start_url"))
    }

    @Test("chaining from an AWS CLI SSO profile says to define it in credd's config")
    func awsCLISSOProfileAsSource() throws {
        let loaded = try FakeHome(
            config: """
                [profile prod]
                source_profile = cli-sso
                role_arn = arn:aws:iam::222222222222:role/Deployer
                """, awsConfig: "[profile cli-sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n"
        ).load()
        let error = try #require(loaded.errors(for: "prod").first)
        #expect(error.message.contains("is an AWS CLI IAM Identity Center profile"))
    }
}
