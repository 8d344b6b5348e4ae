import CreddConfig
import CreddCore
import CreddSTS
import Foundation
import Testing

@testable import CreddRotation

/// Rotation of keys in the keyring item of `alice`, with a fake store: every way the keyring can
/// fail, and the messages naming the keyring rather than a file.
@Suite struct KeyringRotationTests {
    static let locked = KeyStoreError.keyring(profile: "alice", .locked)
    static let vanished = KeyStoreError.keyring(profile: "alice", .noKeys)
    static let changed = KeyStoreError.keyring(profile: "alice", .keyChanged(holds: Keys.otherId, expected: Keys.oldId))
    static let noBus = KeyStoreError.keyring(profile: "alice", .unavailable("no D-Bus at the session bus: DBUS_SESSION_BUS_ADDRESS is unset"))

    static func createThen(delete: [Result<Void, AWSQueryError>] = [.success(())]) -> FakeIAM.Script {
        .init(list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], delete: delete)
    }

    @Test func rotatesTheKeyringItemAndSaysSo() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], update: [.success(())], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.alice()]], store: .keyring())

        let report = try await harness.rotation().rotate()

        #expect(harness.store.keys == Keys.new)
        #expect(report.location == .keyring(profile: "alice"))
        #expect(report.inventory.heldIn == .keyring)
        #expect(
            report.description
                == "Rotated the keys in the keyring item of alice: the keyring item holds the new key \(Keys.newId), which STS accepts; the old key \(Keys.oldId) was deactivated and deleted. Now: IAM user alice has \(Keys.newId) (active, in the keyring)."
        )
        #expect(harness.logs.entries.map { "\($0.message)" }.contains("Wrote the new access key to the keyring"))
        harness.expectNoSecretsAnywhere("\(report)")
    }

    @Test(arguments: [
        (
            locked, "the keyring holding the keys of alice is locked: run `credd keys unlock` (or unlock it on your desktop)",
            "run `credd keys unlock`, then rotate again"
        ),
        (vanished, "the keyring holds no keys of alice any more", "store the keys with `credd keys add alice`, then rotate again"),
        (noBus, "cannot use the keyring item of alice: no D-Bus", "make sure the desktop session's keyring runs"),
    ])
    func anUnreadableItemChangesNothing(problem: KeyStoreError, says: String, next: String) async throws {
        let harness = Harness(iam: .init(), sts: [:], store: .keyring(readFailure: problem))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .readingKeys)
        #expect(error.changedNothing)
        #expect(error.cause == .keyStore(problem))
        #expect(error.description.hasPrefix("Rotating the keys in the keyring item of alice failed while reading the current keys: \(says)"))
        #expect(error.nextStep.hasPrefix(next), "\(error.nextStep)")
        #expect(!error.description.contains("credentials file"))
        #expect(harness.sts.calls.isEmpty && harness.iam.calls.isEmpty)
    }

    /// Locked, emptied or changed between reading the key and writing the new one: the new IAM
    /// key is deleted and the keyring keeps the old key.
    @Test(arguments: [
        (locked, "credd keys unlock"), (vanished, "credd keys add alice"), (changed, "credd keys list"),
    ])
    func aFailedWriteDeletesTheNewKey(problem: KeyStoreError, next: String) async throws {
        let harness = Harness(iam: Self.createThen(), sts: [Keys.oldId: [FakeSTS.alice()]], store: .keyring(replaceFailures: [problem]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .writingNewKey)
        #expect(error.changedNothing)
        #expect(error.rollbackFailures.isEmpty)
        #expect(
            error.inventory
                == KeyInventory(userName: "alice", keys: [.init(accessKeyId: Keys.oldId, status: .active)], fileHolds: Keys.oldId, heldIn: .keyring))
        #expect(harness.store.keys == Keys.old)
        #expect(harness.iam.calls.last == IAMCall(action: "DeleteAccessKey", accessKeyId: Keys.newId, userName: "alice", signedWith: Keys.oldId))
        #expect(error.description.contains("failed while writing the new key to the keyring item: \(problem)"), "\(error.description)")
        #expect(error.nextStep.contains(next), "\(error.nextStep)")
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func aChangedItemIsNamedWithBothKeys() async throws {
        #expect(
            Self.changed.description
                == "the keyring item of alice holds \(Keys.otherId), not \(Keys.oldId) as it did when the rotation read it: it was changed meanwhile")
    }

    @Test func aFailedWriteWhoseRollbackFailsNamesTheKeyringAndBothKeys() async throws {
        let harness = Harness(
            iam: Self.createThen(delete: [.failure(awsError("DeleteAccessKey", code: "ServiceFailure", status: 500))]),
            sts: [Keys.oldId: [FakeSTS.alice()]], store: .keyring(replaceFailures: [Self.locked]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(!error.changedNothing)
        #expect(error.inventory?.leftoverKeys == [Keys.newId])
        #expect(error.nextStep.hasPrefix("the keyring holds \(Keys.oldId); once nothing else uses the other key, delete it"))
        #expect(error.description.contains("\(Keys.oldId) (active, in the keyring)"))
    }

    @Test func stsNeverAcceptsPutsTheOldKeyBackIntoTheKeyring() async throws {
        let harness = Harness(
            iam: Self.createThen(), sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet, FakeSTS.notYet]], store: .keyring())
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation(acceptanceAttempts: 2).rotate() }
        #expect(error.stage == .waitingForNewKey)
        #expect(error.changedNothing)
        #expect(harness.store.keys == Keys.old)
        #expect(harness.store.replacements == [Keys.newId, Keys.oldId])
        #expect(harness.iam.calls.last == IAMCall(action: "DeleteAccessKey", accessKeyId: Keys.newId, userName: "alice", signedWith: Keys.oldId))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func stsNeverAcceptsAndTheKeyringLockedMeanwhileKeepsTheNewKey() async throws {
        let harness = Harness(
            iam: Self.createThen(delete: []), sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet]],
            store: .keyring(replaceFailures: [nil, Self.locked]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation(acceptanceAttempts: 1).rotate() }
        #expect(!error.changedNothing)
        // The keyring holds the new key, so it must not be deleted.
        #expect(harness.store.keys == Keys.new)
        #expect(!harness.iam.calls.contains { $0.action == "DeleteAccessKey" })
        #expect(error.rollbackFailures == [.keyStore(Self.locked)])
        #expect(
            error.description.contains(
                "Rolling back also failed: the keyring holding the keys of alice is locked: run `credd keys unlock` (or unlock it on your desktop)"))
        #expect(error.nextStep.hasPrefix("the keyring holds \(Keys.newId)"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func keyAgeOfTheKeyringItem() async throws {
        let harness = Harness(iam: .init(list: [.success([Keys.metadata(Keys.oldId)])]), sts: [Keys.oldId: [FakeSTS.alice()]], store: .keyring())
        let age = try await harness.rotation().keyAge()
        #expect(age.section == "alice" && age.accessKeyId == Keys.oldId && age.age == 100 * 86_400)
    }

    @Test func aKeyNotListedSaysWhichItem() async throws {
        let harness = Harness(iam: .init(list: [.success([Keys.metadata(Keys.otherId)])]), sts: [Keys.oldId: [FakeSTS.alice()]], store: .keyring())
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.description.contains("while matching the keyring item's key to the user's keys"))
        #expect(error.nextStep == "check that the keyring item of alice holds the key of the IAM user credd signs IAM calls for")
    }
}
