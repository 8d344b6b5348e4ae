import CreddConfig
import Testing

@Suite("STS endpoint resolution")
struct STSEndpointTests {
    struct EndpointCase: Sendable, CustomTestStringConvertible {
        let name: String
        var environment: [String: String] = [:]
        var profileLines = ""
        let url: String
        let signingRegion: String
        var testDescription: String { name }
    }

    @Test(
        "AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, endpoint_url, regional, then global",
        arguments: [
            EndpointCase(
                name: "service variable first",
                environment: ["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9999", "AWS_ENDPOINT_URL": "http://127.0.0.1:8888"],
                profileLines: "endpoint_url = https://sts.example.com\nregion = eu-west-1", url: "http://127.0.0.1:9999", signingRegion: "eu-west-1"),
            EndpointCase(
                name: "then the generic variable", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:8888"],
                profileLines: "endpoint_url = https://sts.example.com", url: "http://127.0.0.1:8888", signingRegion: "us-east-1"),
            EndpointCase(
                name: "then the profile's endpoint_url", profileLines: "endpoint_url = https://sts.example.com\nregion = ap-south-1",
                url: "https://sts.example.com", signingRegion: "ap-south-1"),
            EndpointCase(
                name: "custom URL signs with the environment's region", environment: ["AWS_REGION": "sa-east-1"],
                profileLines: "endpoint_url = https://sts.example.com", url: "https://sts.example.com", signingRegion: "sa-east-1"),
            EndpointCase(
                name: "regional from the profile's region", environment: ["AWS_REGION": "us-west-2"], profileLines: "region = eu-central-1",
                url: "https://sts.eu-central-1.amazonaws.com", signingRegion: "eu-central-1"),
            EndpointCase(
                name: "regional from AWS_REGION", environment: ["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-east-2"],
                url: "https://sts.us-west-2.amazonaws.com", signingRegion: "us-west-2"),
            EndpointCase(
                name: "regional from AWS_DEFAULT_REGION", environment: ["AWS_DEFAULT_REGION": "us-east-2"],
                url: "https://sts.us-east-2.amazonaws.com", signingRegion: "us-east-2"),
            EndpointCase(
                name: "China partition", profileLines: "region = cn-north-1", url: "https://sts.cn-north-1.amazonaws.com.cn",
                signingRegion: "cn-north-1"),
            EndpointCase(name: "global when no region is known", url: "https://sts.amazonaws.com", signingRegion: "us-east-1"),
            EndpointCase(
                name: "legacy sends a pre-2019 region to the global endpoint", profileLines: "region = eu-west-1\nsts_regional_endpoints = legacy",
                url: "https://sts.amazonaws.com", signingRegion: "us-east-1"),
            EndpointCase(
                name: "legacy keeps a newer region regional", profileLines: "region = af-south-1\nsts_regional_endpoints = legacy",
                url: "https://sts.af-south-1.amazonaws.com", signingRegion: "af-south-1"),
            EndpointCase(
                name: "AWS_STS_REGIONAL_ENDPOINTS=legacy", environment: ["AWS_STS_REGIONAL_ENDPOINTS": "legacy"], profileLines: "region = us-east-1",
                url: "https://sts.amazonaws.com", signingRegion: "us-east-1"),
            EndpointCase(
                name: "the variable wins over the profile, as in botocore", environment: ["AWS_STS_REGIONAL_ENDPOINTS": "regional"],
                profileLines: "region = eu-west-1\nsts_regional_endpoints = legacy", url: "https://sts.eu-west-1.amazonaws.com",
                signingRegion: "eu-west-1"),
            EndpointCase(
                name: "legacy leaves a custom URL alone",
                profileLines: "endpoint_url = https://sts.example.com\nregion = eu-west-1\nsts_regional_endpoints = legacy",
                url: "https://sts.example.com", signingRegion: "eu-west-1"),
            EndpointCase(
                name: "GovCloud partition", profileLines: "region = us-gov-west-1", url: "https://sts.us-gov-west-1.amazonaws.com",
                signingRegion: "us-gov-west-1"),
            EndpointCase(
                name: "European Sovereign Cloud partition", profileLines: "region = eusc-de-east-1", url: "https://sts.eusc-de-east-1.amazonaws.eu",
                signingRegion: "eusc-de-east-1"),
            EndpointCase(
                name: "ISO partition", profileLines: "region = us-iso-east-1", url: "https://sts.us-iso-east-1.c2s.ic.gov",
                signingRegion: "us-iso-east-1"),
            EndpointCase(
                name: "ISO-B partition", profileLines: "region = us-isob-east-1", url: "https://sts.us-isob-east-1.sc2s.sgov.gov",
                signingRegion: "us-isob-east-1"),
            EndpointCase(
                name: "China partition ignores legacy", profileLines: "region = cn-north-1\nsts_regional_endpoints = legacy",
                url: "https://sts.cn-north-1.amazonaws.com.cn", signingRegion: "cn-north-1"),
            EndpointCase(
                name: "configured URLs can be switched off",
                environment: ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9999"],
                profileLines: "endpoint_url = https://sts.example.com\nregion = eu-west-1", url: "https://sts.eu-west-1.amazonaws.com",
                signingRegion: "eu-west-1"),
        ])
    func resolution(endpoint: EndpointCase) throws {
        var home = FakeHome(
            config: "[profile p]\nsource_profile = alice-long-term\n\(endpoint.profileLines)\n", credentials: FakeHome.longTermCredentials)
        home.environment.merge(endpoint.environment) { _, new in new }
        let loaded = try home.load()
        #expect(loaded.errors == [])
        let profile = try #require(loaded.profile(named: "p"))
        #expect(profile.stsEndpoint.url.absoluteString == endpoint.url)
        #expect(profile.stsEndpoint.signingRegion == endpoint.signingRegion)
    }

    @Test("malformed endpoint or region variables are reported and ignored")
    func badEnvironment() throws {
        var home = FakeHome(config: "[profile p]\nsource_profile = alice-long-term\n", credentials: FakeHome.longTermCredentials)
        home.environment["AWS_ENDPOINT_URL_STS"] = "http://sts.evil.example"
        home.environment["AWS_REGION"] = "EU WEST"
        let loaded = try home.load()
        #expect(loaded.errors.map(\.key) == ["AWS_ENDPOINT_URL_STS", "AWS_REGION"])
        #expect(loaded.errors.allSatisfy { $0.file == "environment" })
        #expect(loaded.profile(named: "p")?.stsEndpoint.url.absoluteString == "https://sts.amazonaws.com")
    }
}

extension STSEndpointTests {
    @Test("a malformed AWS_STS_REGIONAL_ENDPOINTS is reported and ignored")
    func badRegionalEndpointsVariable() throws {
        var home = FakeHome(config: "[profile p]\nsource_profile = alice-long-term\nregion = eu-west-1\n", credentials: FakeHome.longTermCredentials)
        home.environment["AWS_STS_REGIONAL_ENDPOINTS"] = "global"
        let loaded = try home.load()
        #expect(loaded.errors.map(\.key) == ["AWS_STS_REGIONAL_ENDPOINTS"])
        #expect(loaded.errors.first?.message.contains("expected regional or legacy") == true)
        #expect(loaded.profile(named: "p")?.stsEndpoint.url.absoluteString == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test("credd check shows each profile's endpoint and why: regional, legacy, another partition, custom")
    func checkShowsEndpoints() throws {
        let config = """
            [profile regional]
            source_profile = alice-long-term
            region = eu-west-1

            [profile legacy]
            source_profile = alice-long-term
            region = eu-west-1
            sts_regional_endpoints = legacy

            [profile sovereign]
            source_profile = alice-long-term
            role_arn = arn:aws-eusc:iam::123456789012:role/Dev
            region = eusc-de-east-1

            [profile gov]
            source_profile = alice-long-term
            mfa_serial = arn:aws-us-gov:iam::123456789012:mfa/alice
            region = us-gov-east-1

            [profile local]
            source_profile = alice-long-term
            endpoint_url = http://127.0.0.1:5000
            """
        let report = ConfigCheckReport.render(try FakeHome(config: config, credentials: FakeHome.longTermCredentials).load())
        for expected in [
            "[profile regional]  (\(FakeHome.configPath):1)\n  kind:      GetSessionToken\n  source:    regional ← alice-long-term (static keys …1234 at \(FakeHome.credentialsPath):2)\n  sts:       https://sts.eu-west-1.amazonaws.com (signing region eu-west-1), regional endpoint, partition aws\n",
            "  sts:       https://sts.amazonaws.com (signing region us-east-1), global endpoint: sts_regional_endpoints = legacy\n",
            "  sts:       https://sts.eusc-de-east-1.amazonaws.eu (signing region eusc-de-east-1), regional endpoint, partition aws-eusc\n",
            "  sts:       https://sts.us-gov-east-1.amazonaws.com (signing region us-gov-east-1), regional endpoint, partition aws-us-gov\n",
            "  sts:       http://127.0.0.1:5000 (signing region us-east-1), from endpoint_url\n",
        ] {
            #expect(report.contains(expected), "missing: \(expected)\n\(report)")
        }
        #expect(report.hasSuffix("no errors\n"))
    }
}

@Suite("credd check output")
struct ConfigCheckReportTests {
    static let config = """
        [credd]
        imds_profile = dev

        [profile mfa]
        source_profile = alice-long-term
        mfa_serial = arn:aws:iam::111111111111:mfa/alice
        mfa_process = oathtool --totp -b FAKESECRETTOTPSEED
        duration_seconds = 43200

        [profile dev]
        source_profile = mfa
        role_arn = arn:aws:iam::222222222222:role/Developer
        external_id = FAKE-EXTERNAL-ID-secretish
        role_session_name = alice
        region = eu-west-1
        write_credentials = false

        [profile tool]
        source_profile = vault
        role_arn = arn:aws:iam::333333333333:role/Tool
        mfa_serial = GAHT12345678

        [profile session-based]
        source_profile = saml
        role_arn = arn:aws:iam::444444444444:role/S

        [profile broken]
        source_profile = nowhere
        """

    static let credentials =
        FakeHome.longTermCredentials + """
            [saml]
            aws_access_key_id = ASIAFAKESAMLKEY9876
            aws_secret_access_key = FAKE-SECRET-saml-do-not-print
            aws_session_token = FAKE-TOKEN-saml-do-not-print

            """

    static let awsConfig = "[profile vault]\ncredential_process = /usr/bin/vault-aws --token FAKE-PROCESS-SECRET\n"

    static func render() throws -> String {
        ConfigCheckReport.render(try FakeHome(config: config, credentials: credentials, awsConfig: awsConfig).load())
    }

    @Test("shows kind, source chain, endpoint, region, output and MFA for each profile")
    func contents() throws {
        let report = try Self.render()
        for expected in [
            "config:           \(FakeHome.configPath)",
            "listen:           127.0.0.1:9911",
            "imds profile:     dev",
            "4 profiles:",
            "[profile mfa]  (\(FakeHome.configPath):4)",
            "  kind:      GetSessionToken",
            "  source:    mfa ← alice-long-term (static keys …1234 at \(FakeHome.credentialsPath):2)",
            "  sts:       https://sts.amazonaws.com (signing region us-east-1)",
            "  duration:  12h (43200 s)",
            "  output:    [mfa] in the credentials file",
            "  mfa:       arn:aws:iam::111111111111:mfa/alice, code from mfa_process",
            "  kind:      AssumeRole arn:aws:iam::222222222222:role/Developer (session name alice, external id set)",
            "  source:    dev ← mfa ← alice-long-term (session)",
            "  sts:       https://sts.eu-west-1.amazonaws.com (signing region eu-west-1)",
            "  region:    eu-west-1",
            "  output:    endpoint only",
            "  source:    tool ← vault (credential_process at \(FakeHome.awsConfigPath):2)",
            "  mfa:       GAHT12345678, code via `credd login tool`",
            "  source:    session-based ← saml (static keys …9876 with session token at \(FakeHome.credentialsPath):5)",
            "1 error:",
            "  \(FakeHome.configPath):28: [profile broken] key 'source_profile': source profile 'nowhere' not found",
        ] {
            #expect(report.contains(expected), "missing: \(expected)\n\(report)")
        }
    }

    @Test("never shows a secret, a token, an external id or a command line")
    func noSecrets() throws {
        let report = try Self.render()
        for secret in [
            "FAKE-SECRET", "FAKE-TOKEN", "FAKE-EXTERNAL-ID", "FAKESECRETTOTPSEED", "FAKE-PROCESS-SECRET", "AKIAFAKEEXAMPLE01234",
            "ASIAFAKESAMLKEY9876",
        ] {
            #expect(!report.contains(secret), "\(secret) leaked")
        }
        let loaded = try FakeHome(config: Self.config, credentials: Self.credentials, awsConfig: Self.awsConfig).load()
        // The resolved model's own descriptions redact too (they end up in logs).
        for profile in loaded.profiles {
            #expect(!String(describing: profile).contains("FAKE-SECRET"))
            #expect(!String(describing: profile).contains("FAKE-TOKEN"))
        }
    }

    @Test(
        "shows where rotate_after goes, what it rotates, and why it cannot",
        arguments: [
            (
                "[profile mfa]\nsource_profile = alice-long-term\n",
                "  rotation:  off (rotate_after = 90d in this profile rotates the keys of [alice-long-term])"
            ),
            (
                "[profile mfa]\nsource_profile = alice-long-term\nrotate_after = 90d\n",
                "  rotation:  the keys of [alice-long-term] in \(FakeHome.credentialsPath) are replaced once 90d old (rotate_after)"
            ),
            (
                "[profile tool]\nsource_profile = vault\nrole_arn = arn:aws:iam::333333333333:role/Tool\nrotate_after = 30d\n",
                "  rotation:  unavailable: [vault] gets its keys from credential_process (\(FakeHome.awsConfigPath):2); rotate them where that command keeps them"
            ),
        ])
    func rotationRow(config: String, expected: String) throws {
        let report = ConfigCheckReport.render(
            try FakeHome(config: config, credentials: FakeHome.longTermCredentials, awsConfig: Self.awsConfig).load())
        #expect(report.contains(expected), "missing: \(expected)\n\(report)")
        #expect(!report.contains("FAKE-PROCESS-SECRET") && !report.contains("AKIAFAKEEXAMPLE01234"))
    }

    @Test("chained profiles and session sources get no rotation row")
    func noRotationRow() throws {
        let report = try Self.render()
        #expect(report.components(separatedBy: "rotation:").count == 2, "only [profile mfa] has keys to rotate:\n\(report)")
    }

    @Test("a clean config says so")
    func noErrors() throws {
        let report = ConfigCheckReport.render(
            try FakeHome(
                config: "[credd]\nlisten = [::1]:9911\n[profile a]\nsource_profile = alice-long-term\n", credentials: FakeHome.longTermCredentials
            ).load())
        #expect(report.contains("listen:           [::1]:9911"))
        #expect(report.contains("1 profile:"))
        #expect(report.hasSuffix("no errors\n"))
    }
}
