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

    @Test func aSourceProfileWithKeysInTheKeyringRenewsAndServesWithoutTheSecretOnDisk() async throws {
        let moto = try await MotoServer.start()
        let bus = try PrivateBus()
        let keyringHome = try TemporaryDirectory(prefix: "credd-keyring")
        let keyring = try bus.startKeyring(home: keyringHome)
        defer { keyring.signal(SIGTERM) }
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        let onBus = ["DBUS_SESSION_BUS_ADDRESS": bus.address]
        // The source profile is nowhere in the AWS files: only in the keyring.
        try harness.writeCredentials("# nothing long-term here\n")
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort))
        let added = try harness.cli(["keys", "add", "alice-long-term"], stdin: "AKIAIOSFODNN7EXAMPLE\n\(Self.secret)\n", extra: onBus)
        #expect(added.status == 0, "\(added.stderr)")

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
}
