import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

struct ShellEnvironmentTests {
    static let endpoint = ShellEnvironment.Endpoint(host: "127.0.0.1", port: 9911)

    static let token = Secret("test-container-token-0123456789abcdefghijklmnopq")

    static func settings(_ profile: String = "dev", tokenFile: String = "/run/user/1000/credd/token", region: String? = "eu-west-1")
        -> ShellEnvironment.Settings
    {
        ShellEnvironment.Settings(profile: profile, endpoint: endpoint, tokenFile: tokenFile, token: token, region: region)
    }

    static let unsetConflicts = """
        unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CREDENTIAL_EXPIRATION \
        AWS_PROFILE AWS_DEFAULT_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_EC2_METADATA_SERVICE_ENDPOINT
        """

    @Test func exportLinesSetTheTokenAndItsFileAndRecordWhatTheySet() {
        let text = ShellEnvironment.exportLines(Self.settings(), previousMarker: nil, shell: .bash)
        #expect(
            text == Self.unsetConflicts + """

                export AWS_CONTAINER_CREDENTIALS_FULL_URI='http://127.0.0.1:9911/v1/credentials/dev'
                export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='/run/user/1000/credd/token'
                export AWS_CONTAINER_AUTHORIZATION_TOKEN='\(Self.token.revealed)'
                export AWS_REGION='eu-west-1'
                export AWS_DEFAULT_REGION='eu-west-1'
                export CREDD_ENV_SET='AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
                AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_REGION AWS_DEFAULT_REGION'

                """)
    }

    @Test func noRegionLeavesRegionAlone() {
        let text = ShellEnvironment.exportLines(Self.settings(region: nil), previousMarker: nil, shell: .bash)
        #expect(!text.contains("REGION"))
    }

    @Test func fishSyntaxErasesThenSetsGlobalExports() {
        let text = ShellEnvironment.exportLines(Self.settings(tokenFile: #"/t/it's \ here"#, region: nil), previousMarker: "AWS_REGION", shell: .fish)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "set -e AWS_ACCESS_KEY_ID")
        #expect(lines.contains("set -e AWS_REGION"))
        #expect(lines.contains(#"set -gx AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '/t/it\'s \\ here'"#))
        #expect(lines.last == "true")
        #expect(
            lines.dropLast().last
                == "set -gx CREDD_ENV_SET 'AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN'"
        )
        #expect(!text.contains("export") && !text.contains("unset"))
    }

    @Test(
        arguments: [
            (nil, ShellEnvironment.Shell.sh), ("", .sh), ("/bin/bash", .bash), ("/usr/bin/zsh", .zsh), ("/usr/bin/fish", .fish),
            ("fish", .fish), ("/bin/dash", .sh), ("/usr/local/bin/nu", .sh),
        ] as [(String?, ShellEnvironment.Shell)])
    func theShellIsDetectedFromItsPath(shellVariable: String?, expected: ShellEnvironment.Shell) {
        #expect(ShellEnvironment.Shell.detected(fromShellVariable: shellVariable) == expected)
    }

    @Test func aMarkerNamesOnlyAWSVariables() {
        #expect(
            ShellEnvironment.previouslySet("AWS_REGION  PATH HOME AWS_x AWS_DEFAULT_REGION $(id) AWS_A;B") == ["AWS_REGION", "AWS_DEFAULT_REGION"])
        #expect(ShellEnvironment.previouslySet(nil).isEmpty)
    }

    @Test func unsetLinesClearEverythingCreddSets() {
        let text = ShellEnvironment.unsetLines(previousMarker: "AWS_REGION AWS_DEFAULT_REGION", shell: .zsh)
        #expect(!text.contains("export"))
        for name in [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_REGION",
            "CREDD_ENV_SET",
        ] {
            #expect(text.contains(" \(name) ") || text.hasSuffix(" \(name)\n"), "\(name)")
        }
    }

    @Test func urlsEncodeProfileNamesAndBracketIPv6() {
        #expect(
            ShellEnvironment.credentialsURL(profile: "team dev/x'y", endpoint: Self.endpoint)
                == "http://127.0.0.1:9911/v1/credentials/team%20dev%2Fx%27y")
        #expect(ShellEnvironment.credentialsURL(profile: "dév", endpoint: .init(host: "::1", port: 1)) == "http://[::1]:1/v1/credentials/d%C3%A9v")
        #expect(EndpointRouter.profileName(in: "team%20dev%27s") == "team dev's")
    }

    @Test(arguments: [("d%C3%a9v", "dév"), ("%41%2b", "A+"), ("plain", "plain")])
    func profileNamesArePercentDecoded(segment: String, expected: String) {
        #expect(EndpointRouter.profileName(in: segment[...]) == expected)
    }

    @Test(arguments: ["%", "a%4", "%zz", "%C3", "%FF%FE", "a%2Fb", "%00x%", ""])
    func malformedOrNestedNamesAreRejected(segment: String) {
        #expect(EndpointRouter.profileName(in: segment[...]) == nil)
    }

    @Test(arguments: ["plain", "it's", "a'b'c", "$HOME `id` $(id) \\ \" ; & | *", "line\nbreak", "''", "", "tab\there", "ünï"])
    func singleQuotingSurvivesEvalInPosixShells(value: String) async throws {
        for shell in ["/bin/bash", "/bin/sh"] where FileManager.default.isExecutableFile(atPath: shell) {
            let script = #"eval "X=$QUOTED"; printf '%s' "$X""#
            let result = try await ChildProcess.runOnDedicatedThread(
                [shell, "-c", script], environment: ["PATH": "/usr/bin:/bin", "QUOTED": ShellEnvironment.singleQuoted(value)])
            #expect(result.status == 0)
            #expect(result.stdout == value, "\(shell)")
        }
    }

    /// One shell session as a user has it: a first `credd env` with a region, a second for a
    /// profile without one (given the marker the first exported), then `--unset`; after each, what the shell has.
    @Test(arguments: ["/bin/bash", "/usr/bin/zsh", "/bin/sh"])
    func evalSetsSwitchesAndUnsetsInPosixShells(shell: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: shell), "\(shell) is not installed: run scripts/install-deps")
        let syntax: ShellEnvironment.Shell = shell.hasSuffix("zsh") ? .zsh : .bash
        let show =
            #"printf '%s|' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" "${AWS_REGION-unset}" "${AWS_ACCESS_KEY_ID-unset}" "${CREDD_ENV_SET-unset}"; echo"#
        let script = """
            eval "$FIRST"; \(show)
            eval "$SECOND"; \(show)
            eval "$THIRD"; \(show)
            """
        let result = try await ChildProcess.runOnDedicatedThread(
            [shell, "-c", script],
            environment: [
                "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_PROFILE": "old",
                "FIRST": ShellEnvironment.exportLines(
                    Self.settings("o'brien dev", tokenFile: "/tmp/dir with 'quotes'/token"), previousMarker: nil, shell: syntax),
                "SECOND": ShellEnvironment.exportLines(Self.settings("ops", region: nil), previousMarker: Self.firstMarker, shell: syntax),
                "THIRD": ShellEnvironment.unsetLines(previousMarker: Self.secondMarker, shell: syntax),
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                http://127.0.0.1:9911/v1/credentials/o%27brien%20dev|/tmp/dir with 'quotes'/token|eu-west-1|unset|\(Self.firstMarker)|
                http://127.0.0.1:9911/v1/credentials/ops|/run/user/1000/credd/token|unset|unset|\(Self.secondMarker)|
                ||unset|unset|unset|

                """)
    }

    static let firstMarker =
        "AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_REGION AWS_DEFAULT_REGION"
    static let secondMarker = "AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN"

    @Test func sourcingInFishSetsSwitchesAndUnsets() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/fish"), "fish is not installed: run scripts/install-deps")
        let show =
            #"printf '%s|' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" (set -q AWS_REGION; and echo $AWS_REGION; or echo unset) "$CREDD_ENV_SET"; echo"#
        let script = """
            printf '%s' "$FIRST" | source; \(show)
            printf '%s' "$SECOND" | source; \(show)
            printf '%s' "$THIRD" | source; \(show)
            """
        let result = try await ChildProcess.runOnDedicatedThread(
            ["/usr/bin/fish", "--no-config", "-c", script],
            environment: [
                "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
                "FIRST": ShellEnvironment.exportLines(
                    Self.settings("o'brien dev", tokenFile: #"/tmp/it's \ here"#), previousMarker: nil, shell: .fish),
                "SECOND": ShellEnvironment.exportLines(Self.settings("ops", region: nil), previousMarker: Self.firstMarker, shell: .fish),
                "THIRD": ShellEnvironment.unsetLines(previousMarker: Self.secondMarker, shell: .fish),
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                http://127.0.0.1:9911/v1/credentials/o%27brien%20dev|/tmp/it's \\ here|eu-west-1|\(Self.firstMarker)|
                http://127.0.0.1:9911/v1/credentials/ops|/run/user/1000/credd/token|unset|\(Self.secondMarker)|
                ||unset||

                """)
    }

    @Test func applyingRemovesConflictsAndWhatAnEarlierEnvSet() {
        let original = [
            "PATH": "/usr/bin", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SESSION_TOKEN": "old", "AWS_PROFILE": "x",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "old", "AWS_REGION": "us-east-1",
        ]
        let result = ShellEnvironment.applying(Self.settings(tokenFile: "/t"), to: original)
        #expect(
            result == [
                "PATH": "/usr/bin",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/v1/credentials/dev",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/t",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": Self.token.revealed,
                "AWS_REGION": "eu-west-1",
                "AWS_DEFAULT_REGION": "eu-west-1",
                "CREDD_ENV_SET": Self.firstMarker,
                "CREDD_PROFILE": "dev",
            ])
        // The user's own region stays; one an earlier `credd env` set does not.
        let keepsRegion = ShellEnvironment.applying(Self.settings(region: nil), to: original)
        #expect(keepsRegion["AWS_REGION"] == "us-east-1")
        let dropsRegion = ShellEnvironment.applying(Self.settings(region: nil), to: original.merging(["CREDD_ENV_SET": "AWS_REGION"]) { $1 })
        #expect(dropsRegion["AWS_REGION"] == nil)
    }
}
