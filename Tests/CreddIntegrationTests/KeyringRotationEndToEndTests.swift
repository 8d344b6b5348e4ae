import CreddCore
import CreddTestSupport
import Foundation
import Testing

/// Rotation of keys kept in a real Secret Service (gnome-keyring-daemon on a private session
/// bus) against moto with signature validation on: `credd rotate`, and `rotate_after` in the
/// running daemon. The new key goes into the keyring item, never to disk, and the role made
/// from the keys renews with it. (moto with signature validation knows no GetSessionToken
/// credentials and lets no role session assume a role, so the chain here is one role long; the
/// old key being rejected proves the renewal signed with the new one.)
@Suite(
    .serialized,
    .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"),
    .enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct KeyringRotationEndToEndTests {
    static let actions = [
        "sts:GetCallerIdentity", "sts:AssumeRole", "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey",
    ]
    /// The user's own sections, which no rotation may touch.
    static let credentials = "# mine\r\n[default]\r\nregion = eu-west-1 ; inline\r\n"

    /// Reads the items of a profile from the Secret Service: one `KEYID SECRET` line each.
    static let readItems = """
        import dbus, sys
        bus = dbus.bus.BusConnection(sys.argv[1])
        service = dbus.Interface(bus.get_object('org.freedesktop.secrets', '/org/freedesktop/secrets'), 'org.freedesktop.Secret.Service')
        _, session = service.OpenSession('plain', dbus.String('', variant_level=1))
        unlocked, _ = service.SearchItems({'application': 'credd', 'credd-profile': sys.argv[2]})
        for path in unlocked:
            item = bus.get_object('org.freedesktop.secrets', path)
            attributes = item.Get('org.freedesktop.Secret.Item', 'Attributes', dbus_interface='org.freedesktop.DBus.Properties')
            secret = item.GetSecret(session, dbus_interface='org.freedesktop.Secret.Item')
            print(attributes['aws_access_key_id'], bytes(secret[2]).decode())
        """

    /// moto with user alice (and role Developer), a keyring holding alice's key for the source
    /// profile `alice-long-term`, and a config whose `dev` assumes the role from those keys and
    /// serves it from the endpoint only, so that the credentials file must stay byte-identical.
    final class World {
        let moto: MotoServer
        let bus: PrivateBus
        let keyringHome: TemporaryDirectory
        let harness: CreddHarness
        let old: AWSCredentials
        private let keyring: SpawnedProcess
        var onBus: [String: String] { ["DBUS_SESSION_BUS_ADDRESS": bus.address] }
        /// Every output the test saw, searched for secrets at the end.
        var outputs: [String] = []

        init(rotateAfter: String?) async throws {
            moto = try await MotoServer.start()
            let user = try await moto.createUser("alice", allowing: KeyringRotationEndToEndTests.actions, assumableRole: "Developer")
            try await moto.enableSignatureValidation()
            old = user.credentials
            bus = try PrivateBus()
            keyringHome = try TemporaryDirectory(prefix: "credd-keyring")
            keyring = try bus.startKeyring(home: keyringHome)
            harness = try CreddHarness(stsEndpoint: moto.endpoint)
            harness.emulator = moto
            try harness.writeCredentials(KeyringRotationEndToEndTests.credentials)
            try harness.writeConfig(
                """
                [credd]
                listen = 127.0.0.1:\(harness.endpointPort)

                [profile dev]
                source_profile = alice-long-term
                role_arn = \(try #require(user.roleArn))
                role_session_name = alice
                write_credentials = false
                \(rotateAfter.map { "rotate_after = \($0)" } ?? "")
                """)
            let added = try cli(["keys", "add", "alice-long-term"], stdin: "\(old.accessKeyId)\n\(old.secretAccessKey.revealed)\n")
            guard added.status == 0 else { throw TestSupportError("credd keys add: \(added.stderr)") }
        }

        deinit { keyring.signal(SIGTERM) }

        /// A credd command on the bus, its output kept for the leak check.
        func cli(_ arguments: [String], stdin: String? = nil) throws -> ChildProcess.Output {
            let output = try harness.cli(arguments, stdin: stdin, extra: onBus)
            outputs.append(output.stdout + output.stderr)
            return output
        }

        /// The keys the keyring holds for `alice-long-term`, one per item.
        func keyringKeys() throws -> [AWSCredentials] {
            let read = try harness.run(["/usr/bin/python3", "-c", KeyringRotationEndToEndTests.readItems, bus.address, "alice-long-term"])
            guard read.status == 0 else { throw TestSupportError("reading the keyring: \(read.stderr)") }
            return read.stdout.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                return parts.count == 2 ? AWSCredentials(accessKeyId: parts[0], secretAccessKey: Secret(parts[1])) : nil
            }
        }

        /// The user's access key ids as moto lists them, asked with `keys`.
        func listedKeyIds(with keys: AWSCredentials) throws -> [String] {
            let listed = try harness.run(
                ["aws", "iam", "list-access-keys", "--user-name", "alice", "--query", "AccessKeyMetadata[].AccessKeyId", "--output", "text"],
                extra: Self.only(keys))
            guard listed.status == 0 else { throw TestSupportError("list-access-keys: \(listed.stderr)") }
            return listed.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        }

        func callerIdentity(_ keys: AWSCredentials) throws -> ChildProcess.Output {
            try harness.run(["aws", "sts", "get-caller-identity", "--output", "text"], extra: Self.only(keys))
        }

        private static func only(_ keys: AWSCredentials) -> [String: String] {
            [
                "AWS_ACCESS_KEY_ID": keys.accessKeyId, "AWS_SECRET_ACCESS_KEY": keys.secretAccessKey.revealed, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            ]
        }

        /// After a rotation to `new`: IAM has only `new`, which works; the old key is rejected;
        /// the keyring holds `new` alone; the credentials file is byte-identical; and neither
        /// secret is in any file of the home, the runtime directory or the daemon's log, nor in
        /// the keyring's own files in the clear, nor in any output.
        func expectRotated(to new: AWSCredentials, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            #expect(try listedKeyIds(with: new) == [new.accessKeyId], sourceLocation: sourceLocation)
            let accepted = try callerIdentity(new)
            #expect(accepted.status == 0 && accepted.stdout.contains(":user/alice"), "\(accepted.stderr)", sourceLocation: sourceLocation)
            let rejected = try callerIdentity(old)
            #expect(rejected.status != 0 && rejected.stderr.contains("InvalidClientTokenId"), sourceLocation: sourceLocation)
            #expect(try keyringKeys() == [new], sourceLocation: sourceLocation)
            let file = try Data(contentsOf: URL(fileURLWithPath: harness.credentialsPath))
            #expect(file == Data(KeyringRotationEndToEndTests.credentials.utf8), "the credentials file is untouched", sourceLocation: sourceLocation)
            for secret in [old.secretAccessKey.revealed, new.secretAccessKey.revealed] {
                #expect(KeyringSourceTests.files(under: harness.directory.path, containing: secret).isEmpty, sourceLocation: sourceLocation)
                #expect(KeyringSourceTests.files(under: keyringHome.path, containing: secret).isEmpty, sourceLocation: sourceLocation)
                #expect(!(outputs + [harness.daemonLog()]).joined().contains(secret), "a secret leaked into output", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func creddRotateWritesTheNewKeyToTheKeyringAndTheRoleRenewsWithIt() async throws {
        let world = try await World(rotateAfter: nil)
        let harness = world.harness
        let check = try world.cli(["check"])
        #expect(
            check.stdout.contains("off (rotate_after = 90d in this profile rotates the keys of alice-long-term in the keyring)"), "\(check.stdout)")

        let rotated = try world.cli(["rotate", "dev"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let new = try #require(try world.keyringKeys().first)
        #expect(new.accessKeyId != world.old.accessKeyId)
        #expect(
            rotated.stdout.contains(
                "Rotated the keys in the keyring item of alice-long-term: the keyring item holds the new key \(new.accessKeyId), which STS accepts"),
            "\(rotated.stdout)")
        #expect(rotated.stdout.contains("(active, in the keyring)"))
        #expect(try world.cli(["keys", "list"]).stdout == "alice-long-term  \(new.accessKeyId)\n")

        // The daemon reads the keyring at each renewal: the role is made from the new key.
        try harness.start(environment: world.onBus)
        try harness.waitUntil { KeyringSourceTests.profile("dev", harness)?.state == "fresh" }
        let identity = try world.cli(["exec", "dev", "--", "aws", "sts", "get-caller-identity", "--output", "text"])
        #expect(identity.status == 0 && identity.stdout.contains("assumed-role/Developer/alice"), "\(identity.stderr)")
        #expect(try harness.stop() == 0)
        try world.expectRotated(to: new)
    }

    typealias Status = ScheduledRotationTests.Status

    @Test func rotateAfterRotatesTheKeyringKeyInTheRunningDaemon() async throws {
        let world = try await World(rotateAfter: "6s")
        let harness = world.harness
        let check = try world.cli(["check"])
        #expect(check.stdout.contains("rotation:  the keys of alice-long-term in the keyring are replaced once 6s old"), "\(check.stdout)")

        func dev() throws -> Status.Profile? {
            let output = try world.cli(["status", "--json"])
            return (try? JSONDecoder().decode(Status.self, from: Data(output.stdout.utf8)))?.profiles.first { $0.name == "dev" }
        }
        try harness.start(environment: world.onBus)
        try harness.waitUntil { try dev()?.state == "fresh" }
        let before = try #require(try dev())
        #expect(before.rotation?.section == "alice-long-term" && before.rotation?.keys_in == "keyring")

        // An item may go between the reader's search and its read while the daemon swaps them.
        try harness.waitUntil { (try? world.keyringKeys())?.first.map { $0.accessKeyId != world.old.accessKeyId } == true }
        try harness.waitUntil { try dev()?.rotation.map { $0.state == "scheduled" && $0.last_rotation != nil } == true }
        let after = try #require(try dev())
        let rotation = try #require(after.rotation)
        #expect(rotation.last_error == nil)
        #expect(rotation.key_id != world.old.accessKeyId && rotation.key_id != nil)
        #expect((rotation.key_age_seconds ?? -1) >= 0)
        #expect(after.state == "fresh")
        #expect(after.last_refresh == before.last_refresh, "a rotation does not renew the profile at once")
        let json = try world.cli(["status", "--json"]).stdout
        let violation = try harness.statusSchemaViolation(json)
        #expect(violation == nil, "status --json must match docs/status.schema.json: \(violation ?? "")")
        let table = try world.cli(["status"])
        // The daemon may be rotating again by now; the key's place is what matters here.
        #expect(table.stdout.range(of: #"key AKIA[A-Z0-9]+ in the keyring"#, options: .regularExpression) != nil, "\(table.stdout)")

        // The next renewal signs with the key the keyring holds now (the old one is deleted).
        let refreshed = try world.cli(["refresh", "dev"])
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        #expect(try harness.stop() == 0)

        // The daemon may have rotated more than once by now: check against the key it left.
        let new = try #require(try world.keyringKeys().first)
        try world.expectRotated(to: new)
    }

    @Test func aLockedKeyringStopsScheduledRotationBeforeAnythingChanges() async throws {
        let world = try await World(rotateAfter: "1s")
        let harness = world.harness
        let locked = try harness.run(
            [
                "gdbus", "call", "--address", world.bus.address, "--dest", "org.freedesktop.secrets", "--object-path",
                "/org/freedesktop/secrets", "--method", "org.freedesktop.Secret.Service.Lock", "['/org/freedesktop/secrets/collection/login']",
            ])
        #expect(locked.status == 0, "\(locked.stderr)")

        let rotated = try world.cli(["rotate", "dev"])
        #expect(rotated.status == 1)
        #expect(
            rotated.stderr.contains(
                "Rotating the keys in the keyring item of alice-long-term failed while reading the current keys: the keyring holding the keys of alice-long-term is locked: run `credd keys unlock` (or unlock it on your desktop)."
            ), "\(rotated.stderr)")
        #expect(rotated.stderr.contains("Nothing was changed. Next: run `credd keys unlock`, then rotate again"))

        func rotation() throws -> Status.Rotation? {
            let output = try world.cli(["status", "--json"])
            return (try? JSONDecoder().decode(Status.self, from: Data(output.stdout.utf8)))?.profiles.first { $0.name == "dev" }?.rotation
        }
        try harness.start(environment: world.onBus)
        try harness.waitUntil { try rotation()?.last_error?.contains("credd keys unlock") == true }
        #expect(try rotation()?.state == "retrying")
        #expect(try harness.stop() == 0)

        #expect(try world.listedKeyIds(with: world.old) == [world.old.accessKeyId], "IAM is as it was")
        #expect(try world.cli(["keys", "list"]).stdout == "alice-long-term  \(world.old.accessKeyId)  (locked: unlock the keyring)\n")
        #expect(!(world.outputs + [harness.daemonLog()]).joined().contains(world.old.secretAccessKey.revealed))
    }
}
