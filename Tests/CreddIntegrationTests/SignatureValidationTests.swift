import CreddTestSupport
import Foundation
import Testing

/// The daemon against moto with signature validation on: a role assumed straight from a real
/// (emulated) IAM user's keys, and a wrong secret reported as such.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct SignatureValidationTests {
    /// An IAM user with a key and an assumable role allowed `actions`, then moto's signature checks
    /// on; `creddSettings` are added to the `[credd]` section.
    static func setUp(
        _ harness: CreddHarness, moto: MotoServer, secretOverride: String? = nil, allowing actions: [String] = ["sts:*"], creddSettings: String = ""
    ) async throws -> (secret: String, role: String) {
        let user = try await moto.createUser("alice", allowing: actions, assumableRole: "Developer")
        try await moto.enableSignatureValidation()
        let role = try #require(user.roleArn)
        let secret = user.credentials.secretAccessKey.revealed
        try harness.writeCredentials(
            """
            [alice]
            aws_access_key_id = \(user.credentials.accessKeyId)
            aws_secret_access_key = \(secretOverride ?? secret)

            """)
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)
            \(creddSettings)

            [profile dev]
            source_profile = alice
            role_arn = \(role)
            role_session_name = alice
            """)
        return (secret, role)
    }

    @Test func aRoleAssumedFromSignedStaticKeysIsServedAndWorks() async throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        let (secret, _) = try await Self.setUp(harness, moto: moto)
        try harness.start()
        try harness.waitUntil { (try? harness.cli(["status"]).status) == 0 }

        let identity = try harness.run(["aws", "sts", "get-caller-identity", "--profile", "dev", "--output", "text"])
        #expect(identity.status == 0, "\(identity.stderr)")
        #expect(identity.stdout.contains("assumed-role/Developer/alice"))
        let viaEndpoint = try harness.run(["bash", "-c", "eval \"$(\(CreddHarness.binary) env dev)\" && aws sts get-caller-identity --output text"])
        #expect(viaEndpoint.status == 0, "\(viaEndpoint.stderr)")
        try harness.stop()
        #expect(!harness.daemonLog().contains(secret))
    }

    @Test func aWrongSecretIsReportedAsSignatureDoesNotMatchWithoutRetrying() async throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        let wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGSECRET"
        _ = try await Self.setUp(harness, moto: moto, secretOverride: wrong)
        try harness.start()
        var status = try harness.cli(["status", "--json"])
        try harness.waitUntil {
            status = try harness.cli(["status", "--json"])
            return status.stdout.contains("\"state\" : \"error\"")
        }
        #expect(status.status == 1)
        #expect(status.stdout.contains("SignatureDoesNotMatch"))
        let table = try harness.cli(["status"])
        #expect(table.stdout.contains("SignatureDoesNotMatch"))
        try harness.stop()
        for output in [status.stdout, table.stdout, harness.daemonLog()] {
            #expect(!output.contains(wrong), "the secret must not appear in status or logs")
        }
    }
}
