import CreddBus
import CreddTestSupport
import Foundation
import Testing

/// Against a real Secret Service: gnome-keyring-daemon on a private session bus.
@Suite(.enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct SecretServiceTests {
    static let secret = Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8)
    static let attributes = ["application": "credd", "credd-profile": "alice-long-term", "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"]

    /// Runs `body` with a client of a fresh gnome-keyring whose keyrings live in `home`.
    func withKeyring(_ body: (SecretService, TemporaryDirectory) async throws -> Void) async throws {
        let bus = try PrivateBus()
        let home = try TemporaryDirectory(prefix: "credd-keyring")
        let keyring = try bus.startKeyring(home: home)
        defer { keyring.signal(SIGTERM) }
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let service = SecretService(connection: connection)
        try await body(service, home)
    }

    @Test func storesFindsReadsAndDeletesAnItem() async throws {
        try await withKeyring { service, home in
            let item = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)
            let found = try await service.search(["application": "credd", "credd-profile": "alice-long-term"])
            #expect(found.unlocked == [item] && found.locked.isEmpty)
            #expect(try await service.secret(of: item) == Self.secret)
            #expect(try await service.attributes(of: item).filter { Self.attributes[$0.key] != nil } == Self.attributes)

            // The same attributes replace the item rather than add one.
            let replaced = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Array("new".utf8))
            #expect(try await service.search(["application": "credd"]).unlocked == [replaced])
            #expect(try await service.secret(of: replaced) == Array("new".utf8))

            try await service.delete(replaced)
            #expect(try await service.search(["application": "credd"]).unlocked.isEmpty)
            // Nothing of the secret reached the keyring directory in the clear.
            for file in try FileManager.default.subpathsOfDirectory(atPath: home.path) {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: home.file(file)))) ?? Data()
                #expect(bytes.range(of: Data(Self.secret)) == nil, "\(file)")
            }
        }
    }

    @Test func aLockedCollectionSaysSo() async throws {
        try await withKeyring { service, _ in
            let item = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)

            try await service.lock(["/org/freedesktop/secrets/collection/login"])
            let found = try await service.search(["application": "credd"])
            #expect(found.locked == [item] && found.unlocked.isEmpty)
            await #expect(throws: BusError.locked("credd: other")) {
                _ = try await service.store(label: "credd: other", attributes: ["application": "credd"], secret: Self.secret)
            }
        }
    }

    @Test func noSecretServiceIsAMissingService() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        await #expect(throws: BusError.serviceMissing(SecretService.busName)) {
            _ = try await SecretService(connection: connection).search(["application": "credd"])
        }
    }
}
