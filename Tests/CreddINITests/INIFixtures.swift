import Testing

/// A named INI text for table-driven tests.
struct INIFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    /// Whether botocore reads it (no diagnostics expected from our parser either).
    let botocoreAccepts: Bool

    init(_ name: String, _ text: String, botocoreAccepts: Bool = true) {
        self.name = name
        self.text = text
        self.botocoreAccepts = botocoreAccepts
    }

    var testDescription: String { name }
}

/// Realistic `~/.aws/config` and `~/.aws/credentials` files: AWS documentation examples, files
/// the AWS CLI, aws-mfa, awsume and saml2aws write, and hand edits with every quirk. The key
/// material is the documentation's example keys or obvious fakes.
enum INIFixtures {
    static let all: [INIFixture] = accepted + rejected

    static let accepted: [INIFixture] = [
        INIFixture("empty file", ""),
        INIFixture("only a newline", "\n"),
        INIFixture("only comments", "# nothing here yet\n; really nothing\n"),
        INIFixture(
            "aws configure credentials",
            """
            [default]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

            """),
        INIFixture(
            "aws configure config",
            """
            [default]
            region = us-west-2
            output = json

            """),
        INIFixture(
            "docs named profiles config",
            """
            [default]
            region = us-west-2
            output = json

            [profile user1]
            region = us-east-1
            output = text

            """),
        INIFixture(
            "docs role with source profile",
            """
            [profile marketingadmin]
            role_arn = arn:aws:iam::123456789012:role/marketingadminrole
            source_profile = user1
            role_session_name = session_name
            duration_seconds = 3600

            [profile user1]
            region = us-east-1

            """),
        INIFixture(
            "docs mfa role",
            """
            [profile marketingadmin]
            role_arn = arn:aws:iam::123456789012:role/marketingadminrole
            source_profile = default
            mfa_serial = arn:aws:iam::123456789012:mfa/saanvi

            """),
        INIFixture(
            "docs external id",
            """
            [profile crossaccount]
            role_arn = arn:aws:iam::234567890123:role/SomeRole
            source_profile = default
            external_id = 123456

            """),
        INIFixture(
            "docs credential_source",
            """
            [profile crossaccount]
            role_arn = arn:aws:iam::234567890123:role/SomeRole
            credential_source = Ec2InstanceMetadata
            region = us-east-1

            """),
        INIFixture(
            "docs credential_process",
            """
            [profile developer]
            credential_process = "/opt/bin/awscreds-custom" --username helen
            region = eu-central-1

            """),
        INIFixture(
            "docs sso session",
            """
            [profile my-dev-profile]
            sso_session = my-sso
            sso_account_id = 111122223333
            sso_role_name = SampleRole
            region = us-west-2
            output = json

            [sso-session my-sso]
            sso_region = us-east-1
            sso_start_url = https://my-sso-portal.awsapps.com/start
            sso_registration_scopes = sso:account:access

            """),
        INIFixture(
            "docs services section",
            """
            [profile dev]
            services = local-dynamodb
            region = us-west-2

            [services local-dynamodb]
            dynamodb =
              endpoint_url = http://localhost:8000

            """),
        INIFixture(
            "docs s3 nested settings",
            """
            [profile development]
            s3 =
              max_concurrent_requests = 20
              max_queue_size = 10000
              multipart_threshold = 64MB
              multipart_chunksize = 16MB
              max_bandwidth = 50MB/s
              use_accelerate_endpoint = true
              addressing_style = path
            region = us-east-1

            """),
        INIFixture("nested with tabs and case", "[default]\ns3 =\n\tSignature_Version = s3v4\n\taddressing_style = virtual\n"),
        INIFixture(
            "aws-mfa output",
            """
            [default-long-term]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
            aws_mfa_device = arn:aws:iam::123456789012:mfa/alice

            [default]
            assumed_role = False
            aws_access_key_id = ASIAIOSFODNN7EXAMPLE
            aws_secret_access_key = fakeSessionSecretKey/EXAMPLE
            aws_session_token = FwoGZXIvYXdzEXAMPLETOKEN==
            aws_security_token = FwoGZXIvYXdzEXAMPLETOKEN==
            expiration = 2026-11-23 10:15:00

            """),
        INIFixture(
            "saml2aws output",
            """
            [saml]
            aws_access_key_id        = ASIAIOSFODNN7EXAMPLE
            aws_secret_access_key    = fakeSessionSecretKey/EXAMPLE
            aws_session_token        = FwoGZXIvYXdzEXAMPLETOKEN==
            aws_security_token       = FwoGZXIvYXdzEXAMPLETOKEN==
            x_principal_arn          = arn:aws:sts::123456789012:assumed-role/Dev/alice
            x_security_token_expires = 2030-01-02T00:47:31+02:00

            """),
        INIFixture(
            "awsume style config",
            """
            [profile admin]
            role_arn = arn:aws:iam::123456789012:role/admin
            source_profile = default
            mfa_serial = arn:aws:iam::123456789012:mfa/alice
            awsume_role_duration = 3600
            awsume_session_duration = 43200

            """),
        INIFixture(
            "credd managed section",
            """
            [alice-long-term]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

            [dev]
            # managed by credd
            aws_access_key_id = ASIAIOSFODNN7EXAMPLE
            aws_secret_access_key = fakeSessionSecretKey/EXAMPLE
            aws_session_token = FwoGZXIvYXdzEXAMPLETOKEN==
            aws_security_token = FwoGZXIvYXdzEXAMPLETOKEN==
            x_security_token_expires = 2026-11-23T10:15:00Z

            """),
        INIFixture(
            "credd config example",
            """
            [credd]
            listen = 127.0.0.1:9911          ; the credential endpoint (IMDSv2 + container API)
            imds_profile = dev

            [profile mfa]                    ; GetSessionToken with MFA: the base session
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            duration_seconds = 43200

            """),
        INIFixture(
            "indented comments",
            """
            [default]
                # an indented hash comment
            region = eu-west-1
              ; an indented semicolon comment
            output = json

            """),
        INIFixture(
            "inline hash kept in value",
            """
            [default]
            region = us-east-1 # this stays in the value for botocore
            role_arn = arn:aws:iam::123456789012:role/a#b
            output = json ; so does this

            """),
        INIFixture(
            "comment after section header",
            """
            [default] # the main profile
            region = us-east-1
            [profile dev] ; dev account
            region = eu-west-1

            """),
        INIFixture(
            "colon delimiter",
            """
            [default]
            region: us-east-1
            output :json
            aws_access_key_id:AKIAIOSFODNN7EXAMPLE

            """),
        INIFixture(
            "key case",
            """
            [default]
            AWS_Access_Key_ID = AKIAIOSFODNN7EXAMPLE
            AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
            Region = us-east-1

            [Default]
            region = eu-west-1

            """),
        INIFixture(
            "empty values",
            """
            [default]
            region =
            output=
            mfa_serial   =

            """),
        INIFixture("no spaces around equals", "[default]\nregion=us-east-1\noutput=json\n"),
        INIFixture("tabs everywhere", "[default]\n\tregion\t=\tus-east-1\t\noutput\t= json\n"),
        INIFixture("crlf", "[default]\r\nregion = us-east-1\r\n\r\n[profile dev]\r\nregion = eu-west-1\r\n"),
        INIFixture("mixed line endings", "[default]\r\nregion = us-east-1\n\n[profile dev]\r\nregion = eu-west-1\noutput = json\r\n"),
        INIFixture("lone carriage returns", "[default]\rregion = us-east-1\r"),
        INIFixture("no final newline", "[default]\nregion = us-east-1"),
        INIFixture("crlf without final newline", "[default]\r\nregion = us-east-1"),
        INIFixture(
            "unicode values and comments",
            """
            # Zugangsdaten für das Entwicklungskonto — nicht teilen
            [profile développement]
            region = eu-west-3
            role_session_name = josé
            description = 開発アカウント 🚀

            """),
        INIFixture("trailing whitespace and nbsp", "[default]\nregion = us-east-1   \noutput = json\u{00A0}\n"),
        INIFixture("many blank lines", "\n\n\n[default]\n\n\nregion = us-east-1\n\n\n\n[profile a]\n\n"),
        INIFixture(
            "quoted profile name",
            """
            [profile "my profile"]
            region = us-east-1

            [profile 'single']
            region = us-east-2

            """),
        INIFixture(
            "weird but legal section names",
            """
            [profilefoo]
            region = us-east-1

            [ profile spaced ]
            region = us-east-1

            [preview]
            cloudfront = true

            """),
        INIFixture("continuation of a plain value", "[default]\nnote = first\n  second line\n  third line\nregion = us-east-1\n"),
        INIFixture(
            "nested block then comment and blank",
            "[default]\ns3 =\n  max_concurrent_requests = 20\n  # comment inside\n\n  max_queue_size = 100\nregion = us-east-1\n"),
        INIFixture("indented key after header", "[default]\n  region = us-east-1\n  output = json\n"),
        INIFixture("header then indented deeper continuation", "[default]\n  region = us-east-1\n    continued\n  output = json\n"),
        INIFixture(
            "value containing equals and colon",
            "[default]\nendpoint_url = http://127.0.0.1:4566/path?a=b\ncredential_process = /usr/bin/tool --x=1 --y: 2\n"),
        INIFixture(
            "hand edited mess",
            """
            ; ~/.aws/credentials — edited by hand since 2017
            # old keys, rotated
            #[legacy]
            #aws_access_key_id = AKIAOLDOLDOLDEXAMPLE

            [default]
            aws_access_key_id=AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
            \t
            [work]   
              aws_access_key_id = AKIAI44QH8DHBEXAMPLE
              aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
            ; end
            """),
        INIFixture("many profiles", (1...30).map { "[profile p\($0)]\nregion = us-east-\($0 % 2 + 1)\n" }.joined(separator: "\n")),
    ]

    /// Files botocore refuses as a whole; our parser must say why, with positions.
    static let rejected: [INIFixture] = [
        INIFixture("byte order mark", "\u{FEFF}[default]\nregion = us-east-1\n", botocoreAccepts: false),
        INIFixture("duplicate section", "[default]\nregion = us-east-1\n\n[default]\noutput = json\n", botocoreAccepts: false),
        INIFixture("duplicate key", "[default]\nregion = us-east-1\nRegion = eu-west-1\n", botocoreAccepts: false),
        INIFixture("key outside section", "region = us-east-1\n[default]\n", botocoreAccepts: false),
        INIFixture("line without delimiter", "[default]\nregion us-east-1\n", botocoreAccepts: false),
        INIFixture("empty key", "[default]\n = value\n", botocoreAccepts: false),
        INIFixture("nested line without equals", "[default]\ns3 =\n  max_concurrent_requests 20\n", botocoreAccepts: false),
        INIFixture("unterminated header", "[default\nregion = us-east-1\n", botocoreAccepts: false),
        INIFixture("empty section name", "[]\nregion = us-east-1\n", botocoreAccepts: false),
    ]
}
