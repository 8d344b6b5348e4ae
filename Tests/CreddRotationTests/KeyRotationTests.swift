import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddSTS
import Foundation
import Testing

@testable import CreddRotation

@Suite struct KeyRotationSuccessTests {
    @Test func rotatesSigningWithTheLongTermKeysAndWaitsForSTS() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], update: [.success(())], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet, FakeSTS.notYet, FakeSTS.alice()]])

        let report = try await harness.rotation().rotate()

        #expect(report.oldAccessKeyId == Keys.oldId)
        #expect(report.newAccessKeyId == Keys.newId)
        #expect(report.userName == "alice")
        #expect(report.acceptanceAttempts == 3)
        #expect(report.newKeyCreateDate == Keys.now)
        #expect(report.inventory == KeyInventory(userName: "alice", keys: [.init(accessKeyId: Keys.newId, status: .active)], fileHolds: Keys.newId))
        #expect(harness.store.keys == Keys.new)
        #expect(harness.store.replacements == [Keys.newId])
        // Before the swap the old key signs; after it, the new one (the old is being retired).
        #expect(
            harness.iam.calls == [
                IAMCall(action: "ListAccessKeys", userName: "alice", signedWith: Keys.oldId),
                IAMCall(action: "CreateAccessKey", userName: "alice", signedWith: Keys.oldId),
                IAMCall(action: "UpdateAccessKey", accessKeyId: Keys.oldId, userName: "alice", signedWith: Keys.newId),
                IAMCall(action: "DeleteAccessKey", accessKeyId: Keys.oldId, userName: "alice", signedWith: Keys.newId),
            ])
        #expect(harness.sts.calls == [Keys.oldId, Keys.newId, Keys.newId, Keys.newId])
        #expect(harness.sleeper.sleeps == [.seconds(1), .seconds(2)])
        #expect(report.description.contains(Keys.newId) && report.description.contains(Keys.oldId))
        // The secret check below must have log lines to search.
        #expect(harness.logs.entries.map { "\($0.message)" }.contains("Rotated the access key"))
        harness.expectNoSecretsAnywhere("\(report) \(report.inventory)")
    }

    @Test func signsEveryIAMCallWithTheMFASessionWhenGiven() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], update: [.success(())], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.alice()]])

        let report = try await harness.rotation().rotate(signingSession: Keys.session)

        #expect(report.acceptanceAttempts == 1)
        #expect(harness.sleeper.sleeps.isEmpty)
        #expect(harness.iam.calls.map(\.signedWith) == Array(repeating: Keys.sessionId, count: 4))
        harness.expectNoSecretsAnywhere("\(report)")
    }

    @Test(arguments: [
        ("arn:aws:iam::111111111111:user/alice", "alice"),
        ("arn:aws:iam::111111111111:user/division/team/alice", "alice"),
        ("arn:aws-cn:iam::111111111111:user/bob", "bob"),
    ])
    func userNameFromARN(arn: String, expected: String) {
        #expect(KeyRotation.userName(fromARN: arn) == expected)
    }

    @Test(arguments: [
        "arn:aws:sts::111111111111:assumed-role/Developer/alice", "arn:aws:iam::111111111111:root",
        "arn:aws:iam::111111111111:user/", "not an arn", "",
    ])
    func nonUserARNs(arn: String) {
        #expect(KeyRotation.userName(fromARN: arn) == nil)
    }
}

@Suite struct KeyRotationRefusalTests {
    @Test func twoKeysAlreadyChangesNothing() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.otherId, status: .inactive, created: Keys.now), Keys.metadata(Keys.oldId)])]),
            sts: [Keys.oldId: [FakeSTS.alice()]])

        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }

        #expect(error.stage == .twoKeyLimit)
        #expect(error.changedNothing)
        #expect(error.inventory?.keys.map(\.accessKeyId) == [Keys.oldId, Keys.otherId])
        #expect(error.inventory?.leftoverKeys == [Keys.otherId])
        #expect(harness.iam.calls.map(\.action) == ["ListAccessKeys"])
        #expect(harness.store.replacements.isEmpty)
        #expect(error.description.contains("already has 2"))
        #expect(error.description.contains("\(Keys.otherId) (inactive)"))
        #expect(error.description.contains("aws iam delete-access-key --user-name alice --access-key-id \(Keys.otherId)"))
        #expect(error.description.contains("Nothing was changed"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func keyInFileNotAmongTheUsersKeys() async throws {
        let harness = Harness(iam: .init(list: [.success([Keys.metadata(Keys.otherId)])]), sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .keyNotListed)
        #expect(error.changedNothing)
        #expect(error.description.contains("has no key \(Keys.oldId)"))
    }

    @Test func currentKeyRejectedBySTS() async throws {
        let harness = Harness(iam: .init(), sts: [Keys.oldId: [.failure(awsError("GetCallerIdentity", code: "InvalidClientTokenId"))]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .identifyingUser)
        #expect(error.changedNothing)
        #expect(error.inventory == nil)
        #expect(harness.iam.calls.isEmpty)
        #expect(error.description.contains("InvalidClientTokenId"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func keyOfSomethingOtherThanAnIAMUser() async throws {
        let harness = Harness(iam: .init(), sts: [Keys.oldId: [FakeSTS.alice(arn: "arn:aws:iam::111111111111:root")]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .identifyingUser)
        #expect(error.description.contains("not an IAM user"))
        #expect(harness.iam.calls.isEmpty)
    }

    @Test func unreadableFile() async throws {
        let problem = CredentialsFileError(
            reason: .notSourceKeys, file: "/home/alice/.aws/credentials", line: 4, section: "alice", message: "the section holds session credentials")
        let harness = Harness(iam: .init(), sts: [:], store: FakeKeyStore(readFailure: .file(problem)))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .readingKeys)
        #expect(error.cause == .keyStore(.file(problem)))
        #expect(error.description.contains("/home/alice/.aws/credentials:4"))
        #expect(harness.sts.calls.isEmpty)
    }

    @Test func listDeniedSaysWhichPermissionsAreNeeded() async throws {
        let harness = Harness(iam: .init(list: [.failure(awsError("ListAccessKeys", code: "AccessDenied"))]), sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .listingKeys)
        #expect(error.changedNothing)
        #expect(error.nextStep.contains("iam:CreateAccessKey"))
        #expect(error.description.contains("req-AccessDenied"))
    }

    @Test func expiredSigningSessionSaysToRenewIt() async throws {
        let expired = awsError("ListAccessKeys", code: "ExpiredToken", disposition: .sourceExpired)
        let harness = Harness(iam: .init(list: [.failure(expired)]), sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) {
            try await harness.rotation().rotate(signingSession: Keys.session)
        }
        #expect(error.changedNothing)
        #expect(error.nextStep.contains("credd login"))
        harness.expectNoSecretsAnywhere(error.description)
    }
}

@Suite struct KeyRotationRollbackTests {
    @Test func createFailsChangesNothing() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)]), .success([Keys.metadata(Keys.oldId)])],
                create: [.failure(awsError("CreateAccessKey", code: "AccessDenied"))]),
            sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .creatingKey)
        #expect(error.changedNothing)
        #expect(harness.store.replacements.isEmpty)
        #expect(error.inventory?.keys.map(\.accessKeyId) == [Keys.oldId])
    }

    @Test func createWithoutAnAnswerNamesTheKeyItMayHaveMade() async throws {
        let timeout = AWSQueryError(
            service: "IAM", action: "CreateAccessKey", kind: .transport(.timedOut), code: nil, message: "read timeout", requestId: nil,
            httpStatus: nil, attempts: 3, disposition: .retryable)
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)]), .success([Keys.metadata(Keys.oldId), Keys.metadata(Keys.newId, created: Keys.now)])],
                create: [.failure(timeout)]),
            sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .creatingKey)
        #expect(!error.changedNothing)
        #expect(error.inventory?.leftoverKeys == [Keys.newId])
        #expect(error.inventory?.fileHolds == Keys.oldId)
        #expect(error.nextStep.contains("--access-key-id \(Keys.newId)"))
    }

    @Test func fileWriteFailsDeletesTheNewKey() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()]], store: FakeKeyStore(replaceFailures: [FakeKeyStore.diskFull]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .writingNewKey)
        #expect(error.changedNothing)
        #expect(error.rollbackFailures.isEmpty)
        #expect(error.inventory == KeyInventory(userName: "alice", keys: [.init(accessKeyId: Keys.oldId, status: .active)], fileHolds: Keys.oldId))
        #expect(harness.store.keys == Keys.old)
        #expect(harness.iam.calls.last == IAMCall(action: "DeleteAccessKey", accessKeyId: Keys.newId, userName: "alice", signedWith: Keys.oldId))
        #expect(error.description.contains("No space left on device"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func fileWriteAndRollbackDeleteFailNamesBothKeys() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)],
                delete: [.failure(awsError("DeleteAccessKey", code: "ServiceFailure", status: 500))]),
            sts: [Keys.oldId: [FakeSTS.alice()]], store: FakeKeyStore(replaceFailures: [FakeKeyStore.diskFull]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .writingNewKey)
        #expect(!error.changedNothing)
        #expect(error.rollbackFailures.count == 1)
        #expect(error.inventory?.fileHolds == Keys.oldId)
        #expect(error.inventory?.leftoverKeys == [Keys.newId])
        #expect(error.description.contains("Rolling back also failed"))
        #expect(error.description.contains("--access-key-id \(Keys.newId)"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func stsNeverAcceptsRestoresTheOldKeyAndDeletesTheNewOne() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: Array(repeating: FakeSTS.notYet, count: 4)])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation(acceptanceAttempts: 4).rotate() }
        #expect(error.stage == .waitingForNewKey)
        #expect(error.changedNothing)
        #expect(harness.store.keys == Keys.old)
        #expect(harness.store.replacements == [Keys.newId, Keys.oldId])
        #expect(harness.sleeper.sleeps == [.seconds(1), .seconds(2), .seconds(3)])
        #expect(harness.iam.calls.last == IAMCall(action: "DeleteAccessKey", accessKeyId: Keys.newId, userName: "alice", signedWith: Keys.oldId))
        #expect(error.inventory?.keys.map(\.accessKeyId) == [Keys.oldId])
        #expect(error.description.contains("InvalidClientTokenId"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func cancelledWaitRollsBackToo() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], delete: [.success(())]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet]], sleeper: SleepRecorder(failAfter: 0))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .waitingForNewKey)
        #expect(error.changedNothing)
        #expect(harness.store.keys == Keys.old)
    }

    @Test func stsNeverAcceptsAndTheOldKeyCannotGoBackKeepsTheNewKey() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet, FakeSTS.notYet]],
            store: FakeKeyStore(replaceFailures: [nil, FakeKeyStore.diskFull]))
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation(acceptanceAttempts: 2).rotate() }
        #expect(error.stage == .waitingForNewKey)
        #expect(!error.changedNothing)
        // The file holds the new key, so it must not be deleted.
        #expect(harness.store.keys == Keys.new)
        #expect(!harness.iam.calls.contains { $0.action == "DeleteAccessKey" })
        #expect(error.inventory?.fileHolds == Keys.newId)
        #expect(error.inventory?.leftoverKeys == [Keys.oldId])
        #expect(error.rollbackFailures == [.keyStore(FakeKeyStore.diskFull)])
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func stsNeverAcceptsAndDeletingTheNewKeyFailsNamesIt() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)],
                delete: [.failure(awsError("DeleteAccessKey", code: "Throttling", status: 400, disposition: .retryable))]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.notYet]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation(acceptanceAttempts: 1).rotate() }
        #expect(harness.sleeper.sleeps.isEmpty)
        #expect(harness.store.keys == Keys.old)
        #expect(error.inventory?.fileHolds == Keys.oldId)
        #expect(error.inventory?.leftoverKeys == [Keys.newId])
        #expect(error.nextStep.contains("--access-key-id \(Keys.newId)"))
    }

    @Test func deactivatingTheOldKeyFailsLeavesTheNewKeyInTheFile() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)],
                update: [.failure(awsError("UpdateAccessKey", code: "AccessDenied"))]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .deactivatingOldKey)
        #expect(harness.store.keys == Keys.new)
        #expect(error.inventory?.fileHolds == Keys.newId)
        #expect(error.inventory?.keys == [.init(accessKeyId: Keys.oldId, status: .active), .init(accessKeyId: Keys.newId, status: .active)])
        #expect(error.nextStep.contains("aws iam delete-access-key --user-name alice --access-key-id \(Keys.oldId)"))
        harness.expectNoSecretsAnywhere(error.description)
    }

    @Test func deletingTheOldKeyFailsReportsItInactive() async throws {
        let harness = Harness(
            iam: .init(
                list: [.success([Keys.metadata(Keys.oldId)])], create: [.success(Keys.newKey)], update: [.success(())],
                delete: [.failure(awsError("DeleteAccessKey", code: "ServiceFailure", status: 500, disposition: .retryable))]),
            sts: [Keys.oldId: [FakeSTS.alice()], Keys.newId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) {
            try await harness.rotation().rotate(signingSession: Keys.session)
        }
        #expect(error.stage == .deletingOldKey)
        #expect(!error.changedNothing)
        #expect(harness.store.keys == Keys.new)
        #expect(error.inventory?.keys == [.init(accessKeyId: Keys.oldId, status: .inactive), .init(accessKeyId: Keys.newId, status: .active)])
        #expect(error.description.contains("\(Keys.oldId) (inactive)"))
        #expect(error.description.contains("\(Keys.newId) (active, in the credentials file)"))
        #expect(error.refreshFailure.message == error.description)
        harness.expectNoSecretsAnywhere(error.description)
    }
}

@Suite struct KeyAgeTests {
    @Test func ageFromCreateDate() async throws {
        let harness = Harness(iam: .init(list: [.success([Keys.metadata(Keys.oldId)])]), sts: [Keys.oldId: [FakeSTS.alice()]])
        let age = try await harness.rotation().keyAge(signingSession: Keys.session)
        #expect(age.accessKeyId == Keys.oldId)
        #expect(age.userName == "alice")
        #expect(age.age == 100 * 86_400)
        #expect(age.leftoverKeyIds.isEmpty)
        #expect(age.createDate == Keys.oldCreated)
        #expect(harness.iam.calls.map(\.signedWith) == [Keys.sessionId])
    }

    @Test func namesTheUsersOtherKeys() async throws {
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.otherId, status: .inactive), Keys.metadata(Keys.oldId)])]),
            sts: [Keys.oldId: [FakeSTS.alice()]])
        let age = try await harness.rotation().keyAge()
        #expect(age.accessKeyId == Keys.oldId)
        #expect(age.leftoverKeyIds == [Keys.otherId])
    }

    @Test func keyMissingFromTheList() async throws {
        let harness = Harness(iam: .init(list: [.success([])]), sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().keyAge() }
        #expect(error.stage == .keyNotListed)
        #expect(error.description.contains("IAM user alice has no access keys"))
    }
}

@Suite struct KeyRotationUncertainCreateTests {
    @Test func createWithoutAnAnswerAndNoListSaysTheOutcomeIsUnknown() async throws {
        let timeout = AWSQueryError(
            service: "IAM", action: "CreateAccessKey", kind: .transport(.timedOut), code: nil, message: "read timeout", requestId: nil,
            httpStatus: nil, attempts: 3, disposition: .retryable)
        let harness = Harness(
            iam: .init(list: [.success([Keys.metadata(Keys.oldId)]), .failure(timeout)], create: [.failure(timeout)]),
            sts: [Keys.oldId: [FakeSTS.alice()]])
        let error = try await #require(throws: KeyRotationError.self) { try await harness.rotation().rotate() }
        #expect(error.stage == .creatingKey)
        #expect(!error.changedNothing)
        #expect(error.nextStep.contains("aws iam list-access-keys --user-name alice"))
        #expect(harness.store.replacements.isEmpty)
    }
}
