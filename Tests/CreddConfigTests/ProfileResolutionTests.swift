import CreddConfig
import CreddCore
import Foundation
import Testing

@Suite("Profile resolution")
struct ProfileResolutionTests {
    static let designExample = """
        [credd]
        listen = 127.0.0.1:9911          ; the credential endpoint (IMDSv2 + container API)
        imds_profile = dev               ; the profile the IMDS role listing names
        credentials_file = ~/.aws/credentials   ; default: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials

        [profile dev]                    ; AssumeRole, chained from the MFA session
        source_profile = mfa
        role_arn = arn:aws:iam::222222222222:role/Developer
        external_id = optional
        role_session_name = alice
        region = eu-west-1

        [profile mfa]                    ; GetSessionToken with MFA: the base session
        source_profile = alice-long-term ; static keys in ~/.aws/credentials, or credential_process in ~/.aws/config
        mfa_serial = arn:aws:iam::111111111111:mfa/alice
        mfa_process = oathtool --totp -b @/run/user/1000/totp-secret   ; optional; else `credd login mfa`
        duration_seconds = 43200
        """

    @Test("the docs/design.md example resolves into a chain, sources first")
    func designExampleResolves() throws {
        // botocore keeps "; …" in values, so the example's inline comments are part of them:
        // credd reads it the same way and reports what that breaks.
        let plain = Self.designExample.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            guard !line.hasPrefix("["), let comment = line.range(of: " ;") else { return line }
            return line[..<comment.lowerBound]
        }.joined(separator: "\n")
        let loaded = try FakeHome(config: plain, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors == [])
        #expect(loaded.profiles.map(\.name) == ["mfa", "dev"])
        let dev = try #require(loaded.profile(named: "dev"))
        #expect(dev.kind == .assumeRole(roleArn: "arn:aws:iam::222222222222:role/Developer", externalId: "optional", roleSessionName: "alice"))
        #expect(dev.source == .managed("mfa"))
        #expect(dev.sourceChain == ["dev", "mfa", "alice-long-term"])
        #expect(dev.stsEndpoint == STSEndpoint(url: try #require(URL(string: "https://sts.eu-west-1.amazonaws.com")), signingRegion: "eu-west-1"))
        #expect(dev.writeCredentials && dev.credentialsSection == "dev")
        #expect(dev.location == SourceLocation(file: FakeHome.configPath, line: 6))
        let mfa = try #require(loaded.profile(named: "mfa"))
        #expect(mfa.kind == .sessionToken)
        #expect(mfa.mfaSerial == "arn:aws:iam::111111111111:mfa/alice")
        #expect(mfa.mfaProcess == "oathtool --totp -b @/run/user/1000/totp-secret")
        #expect(mfa.durationSeconds == 43200)
        #expect(mfa.stsEndpoint.url.absoluteString == "https://sts.amazonaws.com")
        #expect(mfa.stsEndpoint.signingRegion == "us-east-1")
        guard case let .staticKeys(keys, origin) = mfa.source else {
            Issue.record("expected static keys, got \(mfa.source)")
            return
        }
        #expect(keys.accessKeyId == "AKIAFAKEEXAMPLE01234")
        #expect(keys.secretAccessKey.revealed == "FAKE-SECRET-long-term-do-not-print")
        #expect(keys.sessionToken == nil)
        #expect(origin == SourceLocation(file: FakeHome.credentialsPath, line: 2))
        #expect(loaded.settings.imdsProfile == "dev")
        #expect(loaded.settings.credentialsFile == FakeHome.credentialsPath)
        #expect(loaded.watchedFiles == [FakeHome.configPath, FakeHome.awsConfigPath, FakeHome.credentialsPath])
    }

    @Test("the docs/design.md example verbatim: inline '; comments' are values, as botocore reads them")
    func designExampleVerbatim() throws {
        let loaded = try FakeHome(config: Self.designExample, credentials: FakeHome.longTermCredentials).load()
        // Every affected line is reported; nothing is silently misread.
        let keys = Set(loaded.errors.compactMap(\.key))
        #expect(keys.isSuperset(of: ["listen", "source_profile"]))
        #expect(loaded.errors.allSatisfy { $0.file == FakeHome.configPath && $0.line != nil })
        #expect(loaded.errors.contains { $0.key == "listen" && $0.message.contains("inline comment") })
    }

    @Test("chains resolve through several managed profiles in dependency order")
    func longChain() throws {
        let config = """
            [profile c]
            source_profile = b
            role_arn = arn:aws:iam::333333333333:role/C
            [profile b]
            source_profile = a
            role_arn = arn:aws:iam::222222222222:role/B
            [profile a]
            source_profile = alice-long-term
            """
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors == [])
        #expect(loaded.profiles.map(\.name) == ["a", "b", "c"])
        #expect(loaded.profile(named: "c")?.sourceChain == ["c", "b", "a", "alice-long-term"])
    }

    @Test(
        "a cycle is reported once, on its first member in the file; the rest wait for it, without a cascade",
        arguments: [
            ["x", "y", "z"], ["y", "z", "x"],
        ])
    func cycles(names: [String]) throws {
        let (first, second, third) = (names[0], names[1], names[2])
        let config = """
            [profile \(first)]
            source_profile = \(second)
            role_arn = arn:aws:iam::111111111111:role/A
            [profile \(second)]
            source_profile = \(third)
            role_arn = arn:aws:iam::111111111111:role/B
            [profile \(third)]
            source_profile = \(first)
            role_arn = arn:aws:iam::111111111111:role/C
            [profile dependent]
            source_profile = x
            role_arn = arn:aws:iam::111111111111:role/D
            [profile grandchild]
            source_profile = dependent
            role_arn = arn:aws:iam::111111111111:role/E
            [profile fine]
            source_profile = alice-long-term
            """
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.profiles.map(\.name) == ["fine"])
        let causes = loaded.errors.filter { $0.waitsOn == nil }
        #expect(causes.count == 1)
        #expect(causes.first?.profile == first && causes.first?.line == 2 && causes.first?.key == "source_profile")
        #expect(causes.first?.message.contains("cycle: \(first) → \(second) → \(third) → \(first)") == true)
        #expect(loaded.errors.filter { $0.message.contains("→") }.count == 1)
        for name in [second, third] {
            #expect(loaded.errors(for: name).map(\.waitsOn) == [first])
        }
        // Every profile behind the cycle names the one broken profile, never "has errors".
        #expect(loaded.errors(for: "dependent").map(\.waitsOn) == [first])
        #expect(loaded.errors(for: "grandchild").map(\.waitsOn) == [first])
        #expect(loaded.errors(for: "grandchild").first?.message.contains("'\(first)' (through 'dependent')") == true)
        #expect(!loaded.errors.contains { $0.message.contains("has errors") })
        let report = ConfigCheckReport.render(loaded)
        #expect(report.contains("1 error:\n") && report.contains("4 profiles wait for them:\n"))
    }

    @Test("a profile naming itself as its source is a cycle of one")
    func selfSource() throws {
        let loaded = try FakeHome(config: "[profile me]\nsource_profile = me\nrole_arn = arn:aws:iam::111111111111:role/A\n").load()
        #expect(loaded.profiles.isEmpty)
        #expect(
            loaded.errors.map(\.description) == [
                "\(FakeHome.configPath):2: [profile me] key 'source_profile': source_profile names the profile itself; a managed profile needs another profile as its source"
            ])
    }

    @Test("a missing source names the files searched and suggests a near name")
    func missingSource() throws {
        let loaded = try FakeHome(config: "[profile mfa]\nsource_profile = alice-longterm\n", credentials: FakeHome.longTermCredentials).load()
        let error = try #require(loaded.errors(for: "mfa").first)
        #expect(error.file == FakeHome.configPath && error.line == 2 && error.key == "source_profile")
        #expect(error.message.contains("not found"))
        #expect(error.message.contains(FakeHome.credentialsPath) && error.message.contains(FakeHome.awsConfigPath))
        #expect(error.message.contains("did you mean 'alice-long-term'?"))
    }

    @Test("an unreadable credentials file is reported, and named where a source is missing")
    func unreadableCredentials() throws {
        var home = FakeHome(config: "[profile mfa]\nsource_profile = alice-long-term\n")
        home.unreadable[FakeHome.credentialsPath] = "Permission denied"
        let loaded = try home.load()
        #expect(loaded.errors.contains { $0.file == FakeHome.credentialsPath && $0.message.contains("Permission denied") })
        #expect(loaded.errors(for: "mfa").first?.message.contains("could not be read: Permission denied") == true)
    }

    @Test("credential_process in ~/.aws/config is a source")
    func credentialProcessSource() throws {
        let awsConfig = "[profile vault]\ncredential_process = /usr/bin/pass-aws --profile vault\n"
        let loaded = try FakeHome(config: "[profile mfa]\nsource_profile = vault\n", awsConfig: awsConfig).load()
        #expect(loaded.errors == [])
        #expect(
            loaded.profile(named: "mfa")?.source
                == .credentialProcess("/usr/bin/pass-aws --profile vault", origin: SourceLocation(file: FakeHome.awsConfigPath, line: 2)))
    }

    @Test("[default] in ~/.aws/config is the profile 'default'")
    func defaultProfileSource() throws {
        let awsConfig = "[default]\ncredential_process = /bin/creds\n"
        let loaded = try FakeHome(config: "[profile mfa]\nsource_profile = default\n", awsConfig: awsConfig).load()
        #expect(loaded.profile(named: "mfa")?.sourceChain == ["mfa", "default"])
    }

    @Test("credentials-file keys override config-file keys; static keys win over credential_process")
    func credentialsFileOverrides() throws {
        let awsConfig = """
            [profile base]
            aws_access_key_id = AKIAEXAMPLEFIG000000
            aws_secret_access_key = FAKE-SECRET-config
            credential_process = /bin/creds
            """
        let credentials = "[base]\naws_access_key_id = AKIAEXAMPLEDENTIALS0\n"
        let loaded = try FakeHome(config: "[profile mfa]\nsource_profile = base\n", credentials: credentials, awsConfig: awsConfig).load()
        #expect(loaded.errors == [])
        guard case let .staticKeys(keys, origin) = loaded.profile(named: "mfa")?.source else {
            Issue.record("expected static keys")
            return
        }
        #expect(keys.accessKeyId == "AKIAEXAMPLEDENTIALS0")
        #expect(keys.secretAccessKey.revealed == "FAKE-SECRET-config")
        #expect(origin == SourceLocation(file: FakeHome.credentialsPath, line: 2))
    }

    @Test("an AssumeRole profile may start from static session credentials; botocore's token order holds")
    func staticSessionForAssumeRole() throws {
        let credentials = """
            [saml]
            aws_access_key_id = ASIAFAKEEXAMPLE01234
            aws_secret_access_key = FAKE-SECRET-saml
            aws_session_token = FAKE-TOKEN-new
            aws_security_token = FAKE-TOKEN-legacy
            """
        let loaded = try FakeHome(
            config: "[profile r]\nsource_profile = saml\nrole_arn = arn:aws:iam::111111111111:role/R\n", credentials: credentials
        ).load()
        guard case let .staticKeys(keys, _) = loaded.profile(named: "r")?.source else {
            Issue.record("expected static keys: \(loaded.errors)")
            return
        }
        #expect(keys.sessionToken?.revealed == "FAKE-TOKEN-legacy")
    }

    struct SourceProblem: Sendable, CustomTestStringConvertible {
        let name: String
        let config: String
        let credentials: String
        let awsConfig: String
        let profile: String
        let key: String
        let line: Int
        let fragment: String
        var testDescription: String { name }
    }

    @Test(
        "sources AWS or credd cannot use are refused with file, line, profile and key",
        arguments: [
            SourceProblem(
                name: "GetSessionToken from a managed session",
                config: "[profile a]\nsource_profile = alice-long-term\n[profile b]\nsource_profile = a\n", credentials: FakeHome.longTermCredentials,
                awsConfig: "", profile: "b", key: "source_profile", line: 4, fragment: "GetSessionToken"),
            SourceProblem(
                name: "GetSessionToken from static session keys", config: "[profile b]\nsource_profile = s\n",
                credentials: "[s]\naws_access_key_id = ASIAX\naws_secret_access_key = FAKE-SECRET\naws_session_token = FAKE-TOKEN\n", awsConfig: "",
                profile: "b", key: "source_profile", line: 2, fragment: "session token"),
            SourceProblem(
                name: "role chaining over an hour",
                config:
                    "[profile a]\nsource_profile = alice-long-term\nrole_arn = arn:aws:iam::111111111111:role/A\n[profile b]\nsource_profile = a\nrole_arn = arn:aws:iam::111111111111:role/B\nduration_seconds = 7200\n",
                credentials: FakeHome.longTermCredentials, awsConfig: "", profile: "b", key: "duration_seconds", line: 7, fragment: "3600"),
            SourceProblem(
                name: "a credd output section as source",
                config:
                    "[profile a]\nsource_profile = alice-long-term\ncredentials_section = a-session\n[profile b]\nsource_profile = a-session\nrole_arn = arn:aws:iam::111111111111:role/B\n",
                credentials: FakeHome.longTermCredentials, awsConfig: "", profile: "b", key: "source_profile", line: 5, fragment: "circular"),
            SourceProblem(
                name: "a section marked as managed by credd",
                config: "[profile b]\nsource_profile = old\nrole_arn = arn:aws:iam::111111111111:role/B\n",
                credentials: "[old]\n# managed by credd\naws_access_key_id = ASIAX\naws_secret_access_key = FAKE-SECRET\n", awsConfig: "",
                profile: "b", key: "source_profile", line: 2, fragment: "managed by credd"),
            SourceProblem(
                name: "half a key pair", config: "[profile b]\nsource_profile = half\n", credentials: "[half]\naws_access_key_id = AKIAX\n",
                awsConfig: "", profile: "b", key: "source_profile", line: 2, fragment: "incomplete key pair"),
            SourceProblem(
                name: "an AWS CLI role profile", config: "[profile b]\nsource_profile = clirole\n", credentials: "",
                awsConfig: "[profile clirole]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n", profile: "b", key: "source_profile",
                line: 2, fragment: "AWS CLI role profile"),
            SourceProblem(
                name: "a profile without credentials", config: "[profile b]\nsource_profile = empty\n", credentials: "",
                awsConfig: "[profile empty]\nregion = eu-west-1\n", profile: "b", key: "source_profile", line: 2, fragment: "neither"),
            SourceProblem(
                name: "two profiles writing one section",
                config: "[profile a]\nsource_profile = alice-long-term\n[profile b]\nsource_profile = alice-long-term\ncredentials_section = a\n",
                credentials: FakeHome.longTermCredentials, awsConfig: "", profile: "b", key: "credentials_section", line: 5,
                fragment: "already written by profile 'a'"),
        ])
    func unusableSources(problem: SourceProblem) throws {
        let loaded = try FakeHome(config: problem.config, credentials: problem.credentials, awsConfig: problem.awsConfig).load()
        let errors = loaded.errors(for: problem.profile)
        #expect(errors.count == 1)
        let error = try #require(errors.first)
        #expect(error.file == FakeHome.configPath)
        #expect(error.line == problem.line)
        #expect(error.key == problem.key)
        #expect(error.message.contains(problem.fragment), "\(error)")
        #expect(!loaded.profiles.contains { $0.name == problem.profile })
        #expect(!error.description.contains("FAKE-SECRET") && !error.description.contains("FAKE-TOKEN"))
    }

    @Test("write_credentials = false frees the section name and serves on the endpoint only")
    func endpointOnly() throws {
        let config =
            "[profile a]\nsource_profile = alice-long-term\nwrite_credentials = FALSE\n[profile b]\nsource_profile = alice-long-term\ncredentials_section = a\n"
        let loaded = try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load()
        #expect(loaded.errors == [])
        #expect(loaded.profile(named: "a")?.writeCredentials == false)
        #expect(loaded.profile(named: "b")?.credentialsSection == "a")
    }
}
