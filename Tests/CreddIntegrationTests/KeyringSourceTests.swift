import CreddTestSupport
import Foundation
import Testing

/// The daemon renewing from long-term keys in a real Secret Service (gnome-keyring-daemon on a
/// private session bus) against moto: nothing secret is ever written to the user's home.
@Suite(
    .serialized,
    .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"),
    .enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct KeyringSourceTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYKEYRINGEXAMPLE"

    /// Every regular file under `directory` that contains `needle`.
    static func files(under directory: String, containing needle: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            if String(decoding: data, as: UTF8.self).contains(needle) { found.append(path) }
        }
        return found
    }

    /// moto, a private session bus with gnome-keyring holding the keys of `alice-long-term`, and
    /// a home whose credentials file holds `credentials` and no keys, with the standard config.
    final class KeyringRig {
        let bus: PrivateBus
        let keyringHome: TemporaryDirectory
        let harness: CreddHarness
        private let keyring: SpawnedProcess
        var onBus: [String: String] { ["DBUS_SESSION_BUS_ADDRESS": bus.address] }

        init(credentials: String) async throws {
            let moto = try await MotoServer.start()
            bus = try PrivateBus()
            keyringHome = try TemporaryDirectory(prefix: "credd-keyring")
            keyring = try bus.startKeyring(home: keyringHome)
            harness = try CreddHarness(stsEndpoint: moto.endpoint)
            harness.emulator = moto
            try harness.writeCredentials(credentials)
            try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort))
            let added = try harness.cli(
                ["keys", "add", "alice-long-term"], stdin: "AKIAIOSFODNN7EXAMPLE\n\(KeyringSourceTests.secret)\n", extra: onBus)
            guard added.status == 0 else { throw TestSupportError("credd keys add: \(added.stderr)") }
        }

        deinit { keyring.signal(SIGTERM) }
    }

    @Test func aSourceProfileWithKeysInTheKeyringRenewsAndServesWithoutTheSecretOnDisk() async throws {
        // The source profile is nowhere in the AWS files: only in the keyring.
        let rig = try await KeyringRig(credentials: "# nothing long-term here\n")
        let (harness, onBus) = (rig.harness, rig.onBus)

        let check = try harness.cli(["check"], extra: onBus)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("mfa ← alice-long-term (keys in the Secret Service)"), "\(check.stdout)")
        // Without the keyring the name is unknown, as before.
        #expect(try harness.cli(["check"]).stdout.contains("source profile 'alice-long-term' not found"))

        try harness.start(environment: onBus)
        try harness.waitUntil { try harness.cli(["status", "--json"]).status == 0 }
        let list = try harness.cli(["list"], extra: onBus)
        #expect(list.stdout.contains("alice-long-term (keyring)"), "\(list.stdout)")
        // A signed call with credentials the endpoint serves.
        let identity = try harness.cli(["exec", "dev", "--", "aws", "sts", "get-caller-identity", "--output", "json"], extra: onBus)
        #expect(identity.status == 0, "\(identity.stderr)")
        #expect(identity.stdout.contains("assumed-role/Developer/alice"), "\(identity.stdout)")
        #expect(try harness.credentialsFile().hasPrefix("# nothing long-term here\n"))

        #expect(Self.files(under: harness.home, containing: Self.secret).isEmpty)
        #expect(Self.files(under: harness.directory.path, containing: Self.secret).isEmpty, "nor in the daemon's log or runtime directory")
        #expect(try harness.stop() == 0)
    }

    struct Status: Decodable {
        struct Action: Decodable {
            let kind: String
            let command: String
        }
        struct Profile: Decodable {
            let name: String
            let state: String
            let action: Action?
        }
        let profiles: [Profile]
    }

    static func profile(_ name: String, _ harness: CreddHarness) -> Status.Profile? {
        let output = try? harness.cli(["status", "--json"])
        return (try? JSONDecoder().decode(Status.self, from: Data((output?.stdout ?? "").utf8)))?.profiles.first { $0.name == name }
    }

    @Test func aLockedKeyringIsNeedsUnlockAndRenewsAtOnceWhenUnlocked() async throws {
        let rig = try await KeyringRig(credentials: "")
        let (harness, bus) = (rig.harness, rig.bus)
        try harness.start(environment: rig.onBus)
        try harness.waitUntil { Self.profile("mfa", harness)?.state == "fresh" }

        try bus.lockKeyring()
        #expect(try harness.cli(["refresh", "mfa"]).status != 0)
        try harness.waitUntil { Self.profile("mfa", harness)?.state == "needs_unlock" }
        let waiting = try #require(Self.profile("mfa", harness))
        #expect(waiting.action?.kind == "unlock" && waiting.action?.command == "credd keys unlock")
        let table = try harness.cli(["status"])
        #expect(table.stdout.contains("credd keys unlock"), "\(table.stdout)")

        // Without a display gnome-keyring cannot show its prompt: it answers "dismissed", and
        // nothing changes.
        let dismissed = try harness.cli(["keys", "unlock"], extra: rig.onBus)
        #expect(dismissed.status == 1 && dismissed.stderr.contains("the unlock prompt was dismissed"), "\(dismissed.stderr)")
        #expect(Self.profile("mfa", harness)?.state == "needs_unlock")

        // What the desktop's prompt does once the password is typed. The daemon hears the
        // collection unlock and renews at once, not at its next retry a minute later.
        let started = Date()
        try bus.unlockKeyring()
        let answered = Date()
        // Polled finely: the figure goes into docs/design.md.
        try eventually("the renewal after the unlock", timeout: .seconds(20), interval: .milliseconds(2)) {
            harness.daemonLog().contains("keyring: a collection may have been unlocked; renewing mfa now")
        }
        let heard = Date()
        try harness.waitUntil(timeout: 20) { Self.profile("mfa", harness)?.state == "fresh" }
        print(
            "unlock call started → renewal started: \(Int(heard.timeIntervalSince(started) * 1000)) ms "
                + "(the call itself took \(Int(answered.timeIntervalSince(started) * 1000)) ms); → fresh: \(Int(Date().timeIntervalSince(started) * 1000)) ms"
        )
        #expect(heard.timeIntervalSince(started) < 3, "renewal started \(heard.timeIntervalSince(started)) s after the unlock")
        #expect(try harness.cli(["keys", "unlock"], extra: rig.onBus).stdout == "the keyring holding credd's keys is unlocked\n")
        #expect(Self.files(under: harness.directory.path, containing: Self.secret).isEmpty)
        #expect(try harness.stop() == 0)
    }

    @Test func theUnlockButtonAsksTheKeyringAndADismissedPromptLeavesTheNotification() async throws {
        let rig = try await KeyringRig(credentials: "")
        let (harness, bus) = (rig.harness, rig.bus)
        let log = rig.keyringHome.file("notifications.log")
        let notifications = try bus.startMock(
            template: "notification_daemon", owning: "org.freedesktop.Notifications", parameters: #"{"capabilities": "body actions"}"#, log: log)
        defer { notifications.signal(SIGTERM) }
        func calls() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        try harness.start(environment: rig.onBus)
        try harness.waitUntil { Self.profile("mfa", harness)?.state == "fresh" }

        try bus.lockKeyring()
        #expect(try harness.cli(["refresh", "mfa"]).status != 0)
        try harness.waitUntil(timeout: 20) { calls().contains("Notify ") }
        let notify = try #require(calls().split(separator: "\n").first { $0.contains("Notify ") })
        #expect(notify.contains(#""AWS profile mfa needs your keyring unlocked""#) && notify.contains(#"["unlock", "Unlock"]"#), "\(notify)")

        // No prompter without a display: gnome-keyring answers "dismissed", and nothing changes.
        try bus.emitFromMock(
            name: "org.freedesktop.Notifications", path: "/org/freedesktop/Notifications", interface: "org.freedesktop.Notifications",
            member: "ActionInvoked", signature: "us", arguments: #"[<uint32 1>, <"unlock">]"#)
        try harness.waitUntil(timeout: 20) { harness.daemonLog().contains("the keyring's unlock prompt was dismissed") }
        #expect(harness.daemonLog().contains(#"desktop: "Unlock" for mfa: asking the keyring to unlock"#))
        #expect(!calls().contains("CloseNotification"))
        #expect(Self.profile("mfa", harness)?.state == "needs_unlock")

        try bus.unlockKeyring()
        try harness.waitUntil(timeout: 20) { calls().contains("CloseNotification 1") }
        #expect(Self.profile("mfa", harness)?.state == "fresh")
        #expect(!calls().contains(Self.secret))
        #expect(try harness.stop() == 0)
    }

    @Test func importMovesTheKeysIntoTheKeyringLeavingEveryOtherByteAndTheDaemonUsesThem() async throws {
        let rig = try await KeyringRig(credentials: "")
        let harness = rig.harness
        // Only the import's keys: what `keys add` stored for the rig is replaced.
        let before = "# mine\r\n[default]\r\nregion = eu-west-1 ; inline\r\n\r\n"
        let after = "; next\r\n[other]\r\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\r\naws_secret_access_key = other-secret-EXAMPLE\r\n"
        let secret = "import/K7MDENG/bPxRfiCYIMPORTEXAMPLE"
        try harness.writeCredentials(
            before + "[alice-long-term]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = \(secret)\r\n\r\n" + after)

        let unused = try harness.cli(["keys", "import", "other"], extra: rig.onBus)
        #expect(unused.status == 1 && unused.stderr.contains("no profile of credd's config uses the keys of [other]"), "\(unused.stderr)")
        let imported = try harness.cli(["keys", "import", "alice-long-term"], extra: rig.onBus)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("moved the keys of alice-long-term (AKIAIOSFODNN7EXAMPLE) into the keyring"), "\(imported.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: harness.credentialsPath)) == Data((before + after).utf8))
        #expect(try harness.cli(["keys", "list"], extra: rig.onBus).stdout == "alice-long-term  AKIAIOSFODNN7EXAMPLE\n")

        try harness.start(environment: rig.onBus)
        try harness.waitUntil { Self.profile("mfa", harness)?.state == "fresh" }
        #expect(Self.files(under: harness.directory.path, containing: secret).isEmpty)
        #expect(!(imported.stdout + imported.stderr).contains(secret))
        #expect(try harness.stop() == 0)
    }

    @Test func importRefusesKeysSTSRejectsAndChangesNothing() async throws {
        let rig = try await KeyringRig(credentials: "")
        let harness = rig.harness
        let file = "[alice-long-term]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = rejected-secret-EXAMPLE\n"
        try harness.writeCredentials(file)
        // No STS answers here: the check fails, and nothing moves.
        let refused = try harness.cli(
            ["keys", "import", "alice-long-term"], extra: rig.onBus.merging(["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"]) { $1 })
        #expect(refused.status == 1 && refused.stderr.contains("STS rejected the keys of [alice-long-term]"), "\(refused.stderr)")
        #expect(try harness.credentialsFile() == file)
    }
}
