import CreddConfig
import Testing

@Suite("Value validation")
struct ConfigValidationTests {
    struct BadValue: Sendable, CustomTestStringConvertible {
        let key: String
        let line: String
        let fragment: String
        /// Extra lines the profile needs for the bad line to be the only problem.
        var extra = ""
        var testDescription: String { line }
    }

    @Test(
        "each bad value is an error naming file, line, profile and key",
        arguments: [
            BadValue(key: "role_arn", line: "role_arn = arn:aws:iam::12345:role/Dev", fragment: "arn:aws:iam::123456789012:role/NAME"),
            BadValue(key: "role_arn", line: "role_arn = arn:aws:iam::123456789012:user/alice", fragment: "is not valid"),
            BadValue(key: "mfa_serial", line: "mfa_serial = arn:aws:iam::123456789012:role/x", fragment: "hardware token serial"),
            BadValue(key: "mfa_serial", line: "mfa_serial = 123", fragment: "is not valid"),
            BadValue(key: "duration_seconds", line: "duration_seconds = 899", fragment: "GetSessionToken accepts 900 to 129600"),
            BadValue(key: "duration_seconds", line: "duration_seconds = 129601", fragment: "GetSessionToken accepts 900 to 129600"),
            BadValue(
                key: "duration_seconds", line: "duration_seconds = 43201", fragment: "AssumeRole accepts 900 to 43200",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "duration_seconds", line: "duration_seconds = 10m",
                fragment: "out of range: GetSessionToken accepts 900 to 129600 seconds (15m to 36h)"),
            BadValue(key: "duration_seconds", line: "duration_seconds = 1.5h", fragment: "is not valid: expected a whole number of days (90d)"),
            BadValue(
                key: "role_session_name", line: "role_session_name = a", fragment: "2 to 64", extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "role_session_name", line: "role_session_name = alice smith", fragment: "2 to 64",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(key: "role_session_name", line: "role_session_name = alice", fragment: "only applies with role_arn"),
            BadValue(key: "external_id", line: "external_id = x", fragment: "2 to 1224", extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(key: "region", line: "region = Europe", fragment: "region name"),
            BadValue(key: "endpoint_url", line: "endpoint_url = http://sts.example.com", fragment: "loopback"),
            BadValue(key: "endpoint_url", line: "endpoint_url = ftp://127.0.0.1", fragment: "https://"),
            BadValue(key: "endpoint_url", line: "endpoint_url = not a url", fragment: "not a URL"),
            BadValue(key: "write_credentials", line: "write_credentials = yes please", fragment: "not a boolean"),
            BadValue(key: "credentials_section", line: "credentials_section = a]b", fragment: "not a usable profile name"),
            BadValue(key: "mfa_process", line: "mfa_process = oathtool", fragment: "needs mfa_serial"),
            BadValue(key: "regoin", line: "regoin = eu-west-1", fragment: "unknown key; did you mean 'region'?"),
            BadValue(key: "sorce_profile", line: "sorce_profile = x", fragment: "did you mean 'source_profile'?"),
            BadValue(key: "aws_secret_access_key", line: "aws_secret_access_key = FAKE-SECRET-in-config", fragment: "does not store long-term keys"),
            BadValue(key: "credential_source", line: "credential_source = Environment", fragment: "not supported"),
            BadValue(key: "region", line: "region =", fragment: "has no value"),
            BadValue(key: "region", line: "region = eu-west-1 ; Ireland", fragment: "inline comments"),
            BadValue(key: "region", line: "region =\n  nested = eu-west-1", fragment: "nested block"),
            BadValue(key: "rotate_after", line: "rotate_after = 90 days", fragment: "a whole number of days (90d)"),
            BadValue(key: "rotate_after", line: "rotate_after = 0d", fragment: "is not valid"),
            BadValue(key: "rotate_after", line: "rotate_after = 1w", fragment: "is not valid"),
            BadValue(key: "sts_regional_endpoints", line: "sts_regional_endpoints = global", fragment: "expected regional (the default) or legacy"),
            BadValue(key: "source_identity", line: "source_identity = a", fragment: "2 to 64", extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(key: "source_identity", line: "source_identity = alice", fragment: "only applies with role_arn"),
            BadValue(
                key: "session_tags", line: "session_tags = team", fragment: "is not Key=Value", extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "session_tags", line: "session_tags = aws:team=a", fragment: "reserved by AWS",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "session_tags", line: "session_tags = team=a,Team=b", fragment: "appears twice",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "session_tags", line: "session_tags = team=a;b", fragment: "the value of tag 'team' is not valid",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(key: "session_tags", line: "session_tags = team=a", fragment: "only applies with role_arn"),
            BadValue(
                key: "transitive_session_tags", line: "transitive_session_tags = team", fragment: "not in session_tags (session_tags sets none)",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "policy_arns", line: "policy_arns = arn:aws:iam::aws:role/ReadOnly", fragment: "arn:aws:iam::aws:policy/NAME",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "policy_arns", line: "policy_arns = " + (1...11).map { "arn:aws:iam::aws:policy/P\($0)" }.joined(separator: ","),
                fragment: "11 policy ARNs: STS accepts at most 10", extra: "role_arn = arn:aws:iam::123456789012:role/R"),
            BadValue(
                key: "policy_file", line: "policy_file = /nowhere/policy.json", fragment: "/nowhere/policy.json does not exist",
                extra: "role_arn = arn:aws:iam::123456789012:role/R"),
        ])
    func badValues(bad: BadValue) throws {
        let config =
            "[profile ok]\nsource_profile = alice-long-term\n\n[profile broken]\nsource_profile = alice-long-term\n\(bad.extra.isEmpty ? "" : bad.extra + "\n")\(bad.line)\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        let expectedLine = bad.extra.isEmpty ? 6 : 7
        #expect(loaded.errors.count == 1, "\(loaded.errors)")
        let error = try #require(loaded.errors.first)
        #expect(error.file == FakeHome.configPath)
        #expect(error.line == expectedLine)
        #expect(error.profile == "broken")
        #expect(error.key == bad.key)
        #expect(error.message.contains(bad.fragment), "\(error)")
        #expect(error.description.hasPrefix("\(FakeHome.configPath):\(expectedLine): [profile broken] key '\(bad.key)': "))
        #expect(!error.description.contains("FAKE-SECRET"))
        // One bad profile never hides the others.
        #expect(loaded.profiles.map(\.name) == ["ok"])
    }

    @Test(
        "good values of every shape are accepted",
        arguments: [
            "role_arn = arn:aws:iam::123456789012:role/path/to/Dev-Role_1+=,.@",
            "role_arn = arn:aws-us-gov:iam::123456789012:role/Dev",
            "mfa_serial = arn:aws:iam::123456789012:mfa/alice",
            "mfa_serial = GAHT12345678",
            "external_id = Ex4mple:ID/with-chars",
            "role_session_name = alice@example.com",
            "duration_seconds = 900",
            "duration_seconds = 43200",
            "duration_seconds = 12h",
            "duration_seconds = 15m",
            "region = us-gov-west-1",
            "endpoint_url = http://127.0.0.1:4566",
            "endpoint_url = http://[::1]:4566",
            "endpoint_url = http://localhost:4566",
            "endpoint_url = https://sts.eu-west-1.amazonaws.com",
            "write_credentials = True",
            "credentials_section = dev-session",
            "rotate_after = 90d",
            "rotate_after = 3600",
            "role_arn = arn:aws-cn:iam::123456789012:role/Dev",
            "role_arn = arn:aws-eusc:iam::123456789012:role/Dev",
            "mfa_serial = arn:aws-us-gov:iam::123456789012:mfa/alice",
            "mfa_serial = arn:aws-eusc:iam::123456789012:mfa/alice",
            "sts_regional_endpoints = legacy",
            "sts_regional_endpoints = Regional",
            "source_identity = alice@example.com",
            "session_tags = team=infra, cost center=42,empty=",
            "policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws-cn:iam::123456789012:policy/path/Mine",
        ])
    func goodValues(line: String) throws {
        let baseRole = line.hasPrefix("role_arn") ? "" : "role_arn = arn:aws:iam::123456789012:role/Base\n"
        let config = "[profile p]\nsource_profile = alice-long-term\n\(baseRole)\(line)\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors == [])
        #expect(loaded.profiles.count == 1)
    }

    @Test("rotate_after is parsed into the resolved profile")
    func rotateAfter() throws {
        let config = "[profile mfa]\nsource_profile = alice-long-term\nrotate_after = 12h\n\n[profile plain]\nsource_profile = alice-long-term\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.profile(named: "mfa")?.rotateAfter == RotationInterval(seconds: 43_200))
        #expect(loaded.profile(named: "plain")?.rotateAfter == nil)
    }

    @Test("several problems in one profile are all reported at once")
    func allProblemsAtOnce() throws {
        let config = "[profile p]\nrole_arn = nope\nregion = Nowhere\nbogus = 1\n"
        let loaded = try FakeHome(config: config).load()
        #expect(Set(loaded.errors.compactMap(\.key)) == ["role_arn", "region", "bogus", "source_profile"])
        #expect(loaded.errors.first { $0.key == "source_profile" }?.line == 1)
    }

    @Test("profile names outside the SDKs' character set are refused")
    func badProfileName() throws {
        let loaded = try FakeHome(config: "[profile \"my profile\"]\nsource_profile = alice-long-term\n", credentials: FakeHome.longTermCredentials)
            .load()
        #expect(loaded.errors.map(\.line) == [1])
        #expect(loaded.errors.first?.profile == "my profile")
    }
}
