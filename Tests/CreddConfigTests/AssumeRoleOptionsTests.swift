import CreddCore
import Testing

@testable import CreddConfig

@Suite("AssumeRole options")
struct AssumeRoleOptionsTests {
    static let policy = """
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my bucket/*" }
          ]
        }

        """

    static func home(_ profileLines: String, policy: String? = Self.policy) -> FakeHome {
        var home = FakeHome(
            config: "[profile dev]\nsource_profile = alice-long-term\nrole_arn = arn:aws:iam::222222222222:role/Developer\n\(profileLines)\n",
            credentials: FakeHome.longTermCredentials)
        if let policy { home.files["/home/alice/.config/credd/policy.json"] = policy }
        return home
    }

    @Test("every option is parsed into the resolved profile; the policy file is read beside the config and sent without whitespace")
    func parsed() throws {
        let loaded = try Self.home(
            """
            source_identity = alice
            session_tags = team=infra, cost center = 42 ,Project=
            transitive_session_tags = TEAM,project
            policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess,arn:aws:iam::222222222222:policy/path/Mine
            policy_file = policy.json
            """
        ).load()
        #expect(loaded.errors == [])
        let options = try #require(loaded.profile(named: "dev")).roleOptions
        #expect(options.sourceIdentity == "alice")
        #expect(options.tags == [.init(key: "team", value: "infra"), .init(key: "cost center", value: "42"), .init(key: "Project", value: "")])
        #expect(options.transitiveTagKeys == ["team", "Project"], "keys as session_tags spells them")
        #expect(options.policyArns == ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::222222222222:policy/path/Mine"])
        #expect(options.policy?.file == "/home/alice/.config/credd/policy.json")
        #expect(
            options.policy?.document
                == #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my bucket/*"}]}"#)
        #expect(loaded.watchedFiles.contains("/home/alice/.config/credd/policy.json"), "an edit of the policy reloads")
    }

    @Test("a profile without options has none")
    func noneByDefault() throws {
        let loaded = try Self.home("").load()
        #expect(loaded.profile(named: "dev")?.roleOptions == AssumeRoleOptions.none)
        #expect(loaded.profile(named: "dev")?.roleOptions.isEmpty == true)
    }

    @Test(
        "~/ is the home directory; an absolute path is used as it is",
        arguments: [
            ("policy_file = ~/policies/dev.json", "/home/alice/policies/dev.json"),
            ("policy_file = /etc/credd/dev.json", "/etc/credd/dev.json"),
        ])
    func policyPaths(line: String, path: String) throws {
        var home = Self.home(line, policy: nil)
        home.files[path] = Self.policy
        let loaded = try home.load()
        #expect(loaded.errors == [])
        #expect(loaded.profile(named: "dev")?.roleOptions.policy?.file == path)
    }

    @Test(
        "a policy file that is no IAM policy, too long or unreadable is an error on its line",
        arguments: [
            ("[1, 2]", "is not an IAM policy: expected a JSON object with a Statement"),
            ("{\"Version\": \"2012-10-17\"}", "is not an IAM policy"),
            ("{\"Statement\": [", "is not an IAM policy"),
            ("{\"Statement\": \"" + String(repeating: "x", count: 2040) + "\"}", "characters without whitespace: STS accepts at most 2048"),
        ])
    func badPolicies(policy: String, fragment: String) throws {
        let loaded = try Self.home("policy_file = policy.json", policy: policy).load()
        let error = try #require(loaded.errors.first)
        #expect(loaded.errors.count == 1)
        #expect(error.key == "policy_file")
        #expect(error.line == 4)
        #expect(error.profile == "dev")
        #expect(error.message.contains(fragment), "\(error)")
        #expect(error.message.contains("/home/alice/.config/credd/policy.json"))
    }

    @Test("a missing policy file is an error, and watched: creating it reloads and fixes the profile")
    func missingPolicyIsWatched() throws {
        let loaded = try Self.home("policy_file = policy.json", policy: nil).load()
        #expect(loaded.errors.map(\.message) == ["/home/alice/.config/credd/policy.json does not exist; write the session policy there as JSON"])
        #expect(loaded.profiles.isEmpty)
        #expect(loaded.watchedFiles.contains("/home/alice/.config/credd/policy.json"))
    }

    @Test("an unreadable policy file is reported with the system's reason")
    func unreadablePolicy() throws {
        var home = Self.home("policy_file = policy.json", policy: nil)
        home.unreadable["/home/alice/.config/credd/policy.json"] = "Permission denied"
        let loaded = try home.load()
        #expect(loaded.errors.map(\.message) == ["cannot read /home/alice/.config/credd/policy.json: Permission denied"])
    }

    @Test("whitespace inside JSON strings is kept, outside removed")
    func minified() {
        #expect(AssumeRoleOptions.minified("{ \"a b\" :\r\n [ \"c\\\" d\" ,\t1 ] }") == "{\"a b\":[\"c\\\" d\",1]}")
    }

    @Test("credd check shows each option, never as a secret")
    func checkShowsOptions() throws {
        let loaded = try Self.home(
            """
            source_identity = alice
            session_tags = team=infra,project=x
            transitive_session_tags = team
            policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess
            policy_file = policy.json
            """
        ).load()
        let report = ConfigCheckReport.render(loaded)
        for expected in [
            "  source id: alice",
            "  tags:      team=infra, project=x (transitive: team)",
            "  policies:  arn:aws:iam::aws:policy/ReadOnlyAccess, inline from /home/alice/.config/credd/policy.json (119 characters)",
        ] {
            #expect(report.contains(expected), "missing: \(expected)\n\(report)")
        }
    }
}
