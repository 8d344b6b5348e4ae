import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

struct ShellEnvironmentTests {
    static let endpoint = ShellEnvironment.Endpoint(host: "127.0.0.1", port: 9911)

    @Test func exportLinesSetTheContainerVariablesAndUnsetConflicts() {
        let text = ShellEnvironment.exportLines(profile: "dev", endpoint: Self.endpoint, tokenFile: "/run/user/1000/credd/token", region: "eu-west-1")
        #expect(text == """
            unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CREDENTIAL_EXPIRATION \
            AWS_PROFILE AWS_DEFAULT_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
            AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_EC2_METADATA_SERVICE_ENDPOINT
            export AWS_CONTAINER_CREDENTIALS_FULL_URI='http://127.0.0.1:9911/v1/credentials/dev'
            export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='/run/user/1000/credd/token'
            export AWS_REGION='eu-west-1'
            export AWS_DEFAULT_REGION='eu-west-1'

            """)
    }

    @Test func noRegionLeavesRegionAlone() {
        let text = ShellEnvironment.exportLines(profile: "dev", endpoint: Self.endpoint, tokenFile: "/t", region: nil)
        #expect(!text.contains("REGION"))
    }

    @Test func urlsEncodeProfileNamesAndBracketIPv6() {
        #expect(ShellEnvironment.credentialsURL(profile: "team dev/x'y", endpoint: Self.endpoint) == "http://127.0.0.1:9911/v1/credentials/team%20dev%2Fx%27y")
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
            let result = try await ChildProcess.runOnDedicatedThread([shell, "-c", script], environment: ["PATH": "/usr/bin:/bin", "QUOTED": ShellEnvironment.singleQuoted(value)])
            #expect(result.status == 0)
            #expect(result.stdout == value, "\(shell)")
        }
    }

    @Test func evalInBashSetsAndUnsetsTheVariables() async throws {
        let lines = ShellEnvironment.exportLines(
            profile: "o'brien dev", endpoint: Self.endpoint, tokenFile: "/tmp/dir with 'quotes'/token", region: "eu-west-1"
        )
        let script = """
            eval "$CREDD_ENV_OUTPUT"
            printf '%s\\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" "$AWS_REGION" "${AWS_ACCESS_KEY_ID-unset}" "${AWS_PROFILE-unset}"
            """
        let result = try await ChildProcess.runOnDedicatedThread(
            ["/bin/bash", "-c", script],
            environment: ["PATH": "/usr/bin:/bin", "CREDD_ENV_OUTPUT": lines, "AWS_ACCESS_KEY_ID": "AKIAOLD", "AWS_PROFILE": "old"]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            http://127.0.0.1:9911/v1/credentials/o%27brien%20dev
            /tmp/dir with 'quotes'/token
            eu-west-1
            unset
            unset

            """)
    }

    @Test func applyingRemovesConflictsAndKeepsTheRest() {
        let original = [
            "PATH": "/usr/bin", "AWS_ACCESS_KEY_ID": "AKIAOLD", "AWS_SESSION_TOKEN": "old", "AWS_PROFILE": "x",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "old", "AWS_REGION": "us-east-1",
        ]
        let result = ShellEnvironment.applying(profile: "dev", endpoint: Self.endpoint, tokenFile: "/t", region: "eu-west-1", to: original)
        #expect(result == [
            "PATH": "/usr/bin",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/v1/credentials/dev",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/t",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
        ])
        let keepsRegion = ShellEnvironment.applying(profile: "dev", endpoint: Self.endpoint, tokenFile: "/t", region: nil, to: original)
        #expect(keepsRegion["AWS_REGION"] == "us-east-1")
    }
}
