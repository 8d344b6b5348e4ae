import CreddBus
import CreddConfig
import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddRotation

/// The keyring store against a real Secret Service: gnome-keyring-daemon on a private session bus.
@Suite(
    .serialized,
    .enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct SecretServiceKeyStoreTests {
    /// A fresh keyring holding `keys` for profile `alice` (none when `nil`), its client, and the store.
    final class Rig {
        let bus: PrivateBus
        let home: TemporaryDirectory
        let keyring: SpawnedProcess
        let connection: BusConnection
        var service: SecretService { SecretService(connection: connection) }
        var store: SecretServiceKeyStore { SecretServiceKeyStore(profile: "alice", environment: ["DBUS_SESSION_BUS_ADDRESS": bus.address]) }

        init(holding keys: AWSCredentials? = Keys.old) async throws {
            bus = try PrivateBus()
            home = try TemporaryDirectory(prefix: "credd-keyring")
            keyring = try bus.startKeyring(home: home)
            connection = try await BusConnection.open(address: bus.address)
            if let keys { _ = try await put(keys) }
        }

        deinit {
            connection.close()
            keyring.signal(SIGTERM)
        }

        /// Stores `keys` for `alice` as `credd keys add` does, beside any item already there.
        func put(_ keys: AWSCredentials) async throws -> String {
            try await service.store(
                label: SecretService.keyLabel(profile: "alice"),
                attributes: SecretService.keyAttributes(profile: "alice").merging(["aws_access_key_id": keys.accessKeyId]) { $1 },
                secret: Array(keys.secretAccessKey.revealed.utf8))
        }

        /// Every item of `alice` as (access key id, secret).
        func items() async throws -> [(String, String)] {
            var items: [(String, String)] = []
            for item in try await service.search(SecretService.keyAttributes(profile: "alice")).unlocked {
                items.append(
                    (
                        try await service.attributes(of: item)["aws_access_key_id"] ?? "?",
                        String(decoding: try await service.secret(of: item), as: UTF8.self)
                    ))
            }
            return items
        }

        /// Nothing of `secrets` in the keyring's files in the clear.
        func expectNothingOnDisk(_ secrets: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            for file in try FileManager.default.subpathsOfDirectory(atPath: home.path) {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: home.file(file)))) ?? Data()
                for secret in secrets {
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func readsAndReplacesTheItemLeavingOneItem() async throws {
        let rig = try await Rig()
        #expect(rig.store.location == .keyring(profile: "alice"))
        #expect(try await rig.store.sourceKeys() == Keys.old)

        try await rig.store.replaceSourceKeys(replacing: Keys.oldId, with: Keys.new)
        let items = try await rig.items()
        #expect(items.count == 1 && items.first?.0 == Keys.newId && items.first?.1 == Keys.newSecret)
        #expect(try await rig.store.sourceKeys() == Keys.new)
        try rig.expectNothingOnDisk([Keys.oldSecret, Keys.newSecret])
    }

    @Test func anItemHoldingAnotherKeyIsNotReplaced() async throws {
        let rig = try await Rig()
        await #expect(throws: KeyStoreError.keyring(profile: "alice", .keyChanged(holds: Keys.oldId, expected: Keys.otherId))) {
            try await rig.store.replaceSourceKeys(replacing: Keys.otherId, with: Keys.new)
        }
        let items = try await rig.items()
        #expect(items.count == 1 && items.first?.0 == Keys.oldId && items.first?.1 == Keys.oldSecret)
    }

    @Test func aVanishedItemIsNoKeysAndNothingIsStored() async throws {
        let rig = try await Rig(holding: nil)
        await #expect(throws: KeyStoreError.keyring(profile: "alice", .noKeys)) { try await rig.store.sourceKeys() }
        await #expect(throws: KeyStoreError.keyring(profile: "alice", .noKeys)) {
            try await rig.store.replaceSourceKeys(replacing: Keys.oldId, with: Keys.new)
        }
        #expect(try await rig.items().isEmpty)
    }

    @Test func aLockedKeyringIsLockedAndNothingChanges() async throws {
        let rig = try await Rig()
        try await rig.service.lock(["/org/freedesktop/secrets/collection/login"])
        await #expect(throws: KeyStoreError.keyring(profile: "alice", .locked)) { try await rig.store.sourceKeys() }
        await #expect(throws: KeyStoreError.keyring(profile: "alice", .locked)) {
            try await rig.store.replaceSourceKeys(replacing: Keys.oldId, with: Keys.new)
        }
        let found = try await rig.service.search(SecretService.keyAttributes(profile: "alice"))
        #expect(found.unlocked.isEmpty && found.locked.count == 1)
        #expect(try await rig.service.attributes(of: try #require(found.locked.first))["aws_access_key_id"] == Keys.oldId)
    }

    @Test func noSessionBusIsUnavailable() async throws {
        let store = SecretServiceKeyStore(profile: "alice", environment: [:])
        let error = await #expect(throws: KeyStoreError.self) { try await store.sourceKeys() }
        guard case .keyring("alice", .unavailable(let reason))? = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("DBUS_SESSION_BUS_ADDRESS is unset"))
    }

    /// A replacement cut short between storing the new item and deleting the old leaves two:
    /// the newer is read, and the next replacement leaves one again.
    @Test func ofTwoItemsTheNewerIsReadAndTheNextReplacementRemovesBoth() async throws {
        let rig = try await Rig()
        // `Created` counts seconds.
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await rig.put(Keys.new)
        #expect(try await rig.items().count == 2)
        #expect(try await rig.store.sourceKeys() == Keys.new)

        try await rig.store.replaceSourceKeys(replacing: Keys.newId, with: Keys.old)
        let items = try await rig.items()
        #expect(items.count == 1 && items.first?.0 == Keys.oldId)
    }

    /// The daemon reads keys at each renewal, maybe while a rotation swaps the items: a read that
    /// finds an item deleted under it searches again rather than failing (or looking locked).
    @Test func readsDuringReplacementsSeeOneKeyOrTheOther() async throws {
        let rig = try await Rig()
        let reader = rig.store
        let reads = Task {
            var seen: [String] = []
            while !Task.isCancelled {
                seen.append(try await reader.sourceKeys().accessKeyId)
            }
            return seen
        }
        var holds = Keys.old
        for _ in 0..<20 {
            let next = holds == Keys.old ? Keys.new : Keys.old
            try await rig.store.replaceSourceKeys(replacing: holds.accessKeyId, with: next)
            holds = next
            try await Task.sleep(for: .milliseconds(30))
        }
        reads.cancel()
        let seen = try await reads.value
        #expect(seen.count > 20, "the reader ran alongside")
        #expect(Set(seen).isSubset(of: [Keys.oldId, Keys.newId]))
    }
}
