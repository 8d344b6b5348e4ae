import CreddCore
import CreddTestSupport
import Foundation
import Testing

/// `rotate_after` in the real daemon against moto with signature validation on: the user and
/// its policy are made with auth off, then every IAM and STS call credd makes is signature- and
/// policy-checked, and a deleted key is rejected.
///
/// moto refuses IAM calls signed with session credentials, so the profile here has no MFA and
/// the daemon signs IAM with the long-term key itself; signing with the MFA session is covered
/// by the unit tests (`RotationSchedulerTests`).
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct ScheduledRotationTests {
    /// Short enough to rotate during the test, long enough to check status before the next one.
    static let rotateAfter = "6s"

    struct Status: Decodable {
        struct Rotation: Decodable {
            let state: String
            let rotate_after: String
            let section: String?
            let keys_in: String?
            let key_id: String?
            let key_age_seconds: Int?
            let next_rotation: String?
            let last_rotation: String?
            let leftover_key_ids: [String]
            let last_error: String?
            let unavailable_reason: String?
        }

        struct Profile: Decodable {
            let name: String
            let state: String
            let last_refresh: String?
            let rotation: Rotation?
        }

        let profiles: [Profile]
    }

    /// moto, a user allowed `actions`, and a daemon whose `base` profile sets rotate_after on
    /// the user's keys in a hand-edited credentials file.
    final class World {
        let moto: MotoServer
        let harness: CreddHarness
        let original: HandEditedCredentials
        var oldKeyId: String { original.keys.accessKeyId }
        var oldSecret: String { original.keys.secretAccessKey.revealed }
        /// Every output the test saw, searched for secrets at the end.
        var outputs: [String] = []

        /// The user's further keys (made with `extraKeys`), not in the file.
        let extraKeyIds: [String]

        init(allowing actions: [String], extraKeys: Int = 0) async throws {
            moto = try await MotoServer.start()
            harness = try CreddHarness(stsEndpoint: moto.endpoint)
            harness.emulator = moto
            let user = try await moto.createUser("alice", allowing: actions, extraKeys: extraKeys)
            extraKeyIds = user.extraAccessKeyIds
            try await moto.enableSignatureValidation()
            original = HandEditedCredentials(keys: user.credentials)
            try harness.writeCredentials(original.text)
            try harness.writeConfig(
                """
                [credd]
                listen = 127.0.0.1:\(harness.endpointPort)

                [profile base]
                source_profile = alice
                rotate_after = \(ScheduledRotationTests.rotateAfter)
                """)
        }

        func status() throws -> Status? {
            let output = try harness.cli(["status", "--json"])
            outputs.append(output.stdout + output.stderr)
            return try? JSONDecoder().decode(Status.self, from: Data(output.stdout.utf8))
        }

        func base() throws -> Status.Profile? {
            try status()?.profiles.first { $0.name == "base" }
        }

        /// The key id in `[alice]` now.
        func fileKeyId() throws -> String? {
            let lines = try harness.credentialsFile().components(separatedBy: "\n")
            guard let header = lines.firstIndex(of: "[alice]") else { return nil }
            return lines[header...].first { $0.contains("aws_access_key_id") }?
                .split(separator: "=", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }

        /// Whether the file is the original with only the two key lines replaced, followed by
        /// nothing but the section credd manages for `base`.
        func fileIsOriginalWithNewKey(_ keyId: String, secret: String) throws -> Bool {
            let expected = original.replacingKeys(with: AWSCredentials(accessKeyId: keyId, secretAccessKey: Secret(secret)))
            let file = try harness.credentialsFile()
            guard file.hasPrefix(expected) else { return false }
            return file.dropFirst(expected.count).drop { $0 == "\n" }.hasPrefix("[base]\n# managed by credd\n")
        }

        /// `aws sts get-caller-identity` with exactly these keys.
        func callerIdentity(keyId: String, secret: String) throws -> ChildProcess.Output {
            try harness.run(
                ["aws", "sts", "get-caller-identity", "--output", "text"],
                extra: [
                    "AWS_ACCESS_KEY_ID": keyId, "AWS_SECRET_ACCESS_KEY": secret, "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                ])
        }

        func expectNoSecretLeaked(extra secrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
            let everything = (outputs + [harness.daemonLog()]).joined(separator: "\n")
            #expect(!everything.isEmpty, sourceLocation: sourceLocation)
            for secret in [oldSecret] + secrets + (try harness.secretsInCredentialsFile()) {
                #expect(!everything.contains(secret), "a secret leaked into logs or status", sourceLocation: sourceLocation)
            }
        }
    }

    static let allActions = [
        "sts:GetCallerIdentity", "sts:GetSessionToken", "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey",
    ]

    @Test func theDaemonRotatesTheKeyInPlaceWithoutDisturbingServedCredentials() async throws {
        let world = try await World(allowing: Self.allActions)
        let harness = world.harness
        try harness.start()
        try harness.waitUntil { try world.base()?.state == "fresh" }
        let before = try #require(try world.base())
        let checked = try #require(before.rotation)
        #expect(checked.rotate_after == Self.rotateAfter)
        #expect(checked.section == "alice" && checked.keys_in == "credentials_file")

        // The rotation, then the check that follows it.
        try harness.waitUntil { try world.fileKeyId() != world.oldKeyId }
        try harness.waitUntil { try world.base()?.rotation.map { $0.state == "scheduled" && $0.last_rotation != nil } == true }
        let after = try #require(try world.base())
        let rotation = try #require(after.rotation)
        let newKeyId = try #require(try world.fileKeyId())
        #expect(rotation.key_id == newKeyId)
        #expect(rotation.leftover_key_ids.isEmpty)
        #expect(rotation.last_error == nil)
        #expect((rotation.key_age_seconds ?? -1) >= 0 && (rotation.key_age_seconds ?? 99) < 6)
        #expect(rotation.next_rotation != nil)
        #expect(after.state == "fresh")
        #expect(after.last_refresh == before.last_refresh, "a rotation does not renew the profile at once")
        let table = try harness.cli(["status"])
        world.outputs.append(table.stdout + table.stderr)
        #expect(table.stdout.contains("rotation: scheduled, key \(newKeyId)"))
        let violation = try harness.statusSchemaViolation(try harness.cli(["status", "--json"]).stdout)
        #expect(violation == nil, "status --json must match docs/status.schema.json: \(violation ?? "")")

        // The profile's next renewal signs with the new key (the old one is deleted by now).
        let refreshed = try harness.cli(["refresh", "base"])
        world.outputs.append(refreshed.stdout + refreshed.stderr)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(try harness.stop() == 0)

        // Only the two key lines changed; the new key works, the old one is rejected.
        let newSecret = try #require(try harness.secretsInCredentialsFile().first)
        let newKey = try #require(try world.fileKeyId())
        #expect(try world.fileIsOriginalWithNewKey(newKey, secret: newSecret))
        let accepted = try world.callerIdentity(keyId: newKey, secret: newSecret)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains(":user/alice"))
        let rejected = try world.callerIdentity(keyId: world.oldKeyId, secret: world.oldSecret)
        #expect(rejected.status != 0)
        #expect(rejected.stderr.contains("InvalidClientTokenId"))
        world.outputs.append(accepted.stderr + rejected.stderr)
        try world.expectNoSecretLeaked(extra: [newSecret])
    }

    /// `credd rotate` builds its rotation with the same factory as the daemon; with no daemon
    /// running it signs with the long-term key and says so.
    @Test func creddRotateReplacesTheKeyWithoutADaemon() async throws {
        let world = try await World(allowing: Self.allActions)
        let harness = world.harness
        let rotated = try harness.cli(["rotate", "base"])
        world.outputs.append(rotated.stdout + rotated.stderr)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stderr.contains("no running daemon has an MFA session") == false, "base has no MFA: \(rotated.stderr)")

        let newKeyId = try #require(try world.fileKeyId())
        #expect(newKeyId != world.oldKeyId)
        #expect(rotated.stdout.contains("the file holds the new key \(newKeyId)"), "\(rotated.stdout)")
        #expect(rotated.stdout.contains("the old key \(world.oldKeyId) was deactivated and deleted"))
        let newSecret = try #require(try harness.secretsInCredentialsFile().first)
        #expect(
            try harness.credentialsFile()
                == world.original.replacingKeys(with: AWSCredentials(accessKeyId: newKeyId, secretAccessKey: Secret(newSecret))))
        let accepted = try world.callerIdentity(keyId: newKeyId, secret: newSecret)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let rejected = try world.callerIdentity(keyId: world.oldKeyId, secret: world.oldSecret)
        #expect(rejected.stderr.contains("InvalidClientTokenId"))
        world.outputs.append(accepted.stderr + rejected.stderr)
        try world.expectNoSecretLeaked(extra: [newSecret])
    }

    @Test func creddRotateWithAnUnusableIAMEndpointChangesNothing() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        let original = HandEditedCredentials(
            keys: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Secret("unusedEXAMPLEsecret")))
        try harness.writeCredentials(original.text)
        try harness.writeConfig("[profile base]\nsource_profile = alice\n")
        let rotated = try harness.run([CreddHarness.binary, "rotate", "base"], extra: ["AWS_ENDPOINT_URL_IAM": "iam.local"])
        #expect(rotated.status == 1)
        #expect(rotated.stderr.contains("AWS_ENDPOINT_URL_IAM 'iam.local' is not an http:// or https:// URL"), "\(rotated.stderr)")
        #expect(try harness.credentialsFile() == original.text)
    }

    @Test func aFailedDeleteLeavesAWorkingKeyAndStatusNamesTheLeftoverKey() async throws {
        // No iam:DeleteAccessKey: the rotation fails between writing the new key and deleting the old.
        let world = try await World(allowing: Self.allActions.filter { $0 != "iam:DeleteAccessKey" })
        let harness = world.harness
        try harness.start()
        try harness.waitUntil { try world.base()?.rotation.map { $0.last_error != nil && $0.state == "scheduled" } == true }
        let rotation = try #require(try world.base()?.rotation)
        #expect(rotation.leftover_key_ids == [world.oldKeyId])
        #expect(rotation.key_id != world.oldKeyId, "checked again after the failure: the file holds the new key")
        let error = try #require(rotation.last_error)
        #expect(error.contains("DeleteAccessKey") && error.contains("AccessDenied"), "\(error)")
        #expect(error.contains("--access-key-id \(world.oldKeyId)"))
        let table = try harness.cli(["status"])
        world.outputs.append(table.stdout + table.stderr)
        #expect(table.stdout.contains("leftover keys: \(world.oldKeyId)"))
        let violation = try harness.statusSchemaViolation(try harness.cli(["status", "--json"]).stdout)
        #expect(violation == nil, "\(violation ?? "")")

        // The file holds the new key, which works.
        let newKeyId = try #require(try world.fileKeyId())
        #expect(newKeyId != world.oldKeyId)
        let newSecret = try #require(try harness.secretsInCredentialsFile().first)
        #expect(try world.fileIsOriginalWithNewKey(newKeyId, secret: newSecret))
        let accepted = try world.callerIdentity(keyId: newKeyId, secret: newSecret)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try harness.stop() == 0)

        // A restarted daemon finds the leftover by listing the keys.
        try harness.start()
        try harness.waitUntil { try world.base()?.rotation?.key_id == newKeyId }
        #expect(try world.base()?.rotation?.leftover_key_ids == [world.oldKeyId])
        #expect(try harness.stop() == 0)
        try world.expectNoSecretLeaked(extra: [newSecret])
    }

    @Test func atTheTwoKeyLimitNothingChangesAndStatusNamesTheOtherKey() async throws {
        let world = try await World(allowing: Self.allActions, extraKeys: 1)
        let harness = world.harness
        let other = try #require(world.extraKeyIds.first)
        try harness.start()
        try harness.waitUntil { try world.base()?.rotation?.state == "retrying" }
        let rotation = try #require(try world.base()?.rotation)
        #expect(rotation.key_id == world.oldKeyId)
        #expect(rotation.leftover_key_ids == [other])
        let error = try #require(rotation.last_error)
        #expect(error.contains("two-key limit") && error.contains("Nothing was changed"), "\(error)")
        #expect(error.contains("--access-key-id \(other)"))
        #expect(try harness.credentialsFile().hasPrefix(world.original.text), "the user's sections are unchanged")
        #expect(try harness.stop() == 0)
        let accepted = try world.callerIdentity(keyId: world.oldKeyId, secret: world.oldSecret)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        try world.expectNoSecretLeaked()
    }

    @Test func aCredentialProcessSourceShowsThatRotationIsUnavailable() throws {
        let harness = try CreddHarness(stsEndpoint: "http://127.0.0.1:\(try FreePort.find())")
        try harness.directory.write("home/.aws/config", "[profile vault]\ncredential_process = /bin/false\n")
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile tool]
            source_profile = vault
            role_arn = arn:aws:iam::123456789012:role/Tool
            rotate_after = 30d
            """)
        let check = try harness.cli(["check"])
        #expect(check.stdout.contains("rotation:  unavailable: [vault] gets its keys from credential_process"))
        try harness.start()
        var output = try harness.cli(["status", "--json"])
        try harness.waitUntil {
            output = try harness.cli(["status", "--json"])
            return output.stdout.contains("\"rotation\"")
        }
        let status = try JSONDecoder().decode(Status.self, from: Data(output.stdout.utf8))
        let violation = try harness.statusSchemaViolation(output.stdout)
        #expect(violation == nil, "\(violation ?? "")")
        let rotation = try #require(status.profiles.first { $0.name == "tool" }?.rotation)
        #expect(rotation.state == "unavailable")
        #expect(rotation.rotate_after == "30d")
        #expect(rotation.unavailable_reason?.contains("credential_process") == true)
        #expect(rotation.key_id == nil && rotation.next_rotation == nil)
        let table = try harness.cli(["status"])
        // The line wraps between words at 80 columns.
        #expect(
            table.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                .contains("rotation: unavailable (rotate_after 30d): [vault] gets its keys from credential_process"))
        #expect(try harness.stop() == 0)
    }
}
