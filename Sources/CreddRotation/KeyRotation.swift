import CreddCore
import CreddPlatform
import CreddSTS
import FoundationEssentials
import Logging

/// Replaces the long-term access key in a credentials file section or a keyring item (the key
/// store) without ever leaving the store without a working key.
///
/// The steps: read the key from the store; ask STS whose it is; list the user's keys (two already:
/// stop, change nothing); create a new key; write it into the store (in a file only the two key
/// lines change); call GetCallerIdentity with it until STS accepts it (IAM is eventually consistent);
/// deactivate and delete the old key. A failure after the new key exists rolls back (the new key
/// is deleted and the old one stays in, or goes back into, the store) or, once the new key works,
/// forward (the old key is left and named). Every outcome says which keys exist and which one
/// the store holds.
///
/// IAM calls are signed with the MFA session when the caller passes one, so MFA-guarded IAM
/// policies pass; otherwise with the long-term key itself (the old key before the swap, the new
/// one after, since the old one is being retired).
public struct KeyRotation: Sendable {
    /// How long to wait for STS to accept a new key.
    public struct Configuration: Sendable {
        /// GetCallerIdentity calls with the new key, the first included; at least 1.
        public var acceptanceAttempts: Int
        /// The wait after the first rejection; doubled after each further one.
        public var acceptanceInitialDelay: Duration
        public var acceptanceMaxDelay: Duration

        /// Defaults wait about a minute in all, well past IAM's usual few seconds.
        public init(acceptanceAttempts: Int = 10, acceptanceInitialDelay: Duration = .seconds(1), acceptanceMaxDelay: Duration = .seconds(10)) {
            self.acceptanceAttempts = max(1, acceptanceAttempts)
            self.acceptanceInitialDelay = acceptanceInitialDelay
            self.acceptanceMaxDelay = acceptanceMaxDelay
        }
    }

    private let iam: any AccessKeyManaging
    private let sts: any CallerIdentityChecking
    private let keyStore: any SourceKeyStore
    private let wallClock: any WallClock
    private let sleep: @Sendable (Duration) async throws -> Void
    private let configuration: Configuration
    private let logger: Logger

    public init(
        iam: any AccessKeyManaging,
        sts: any CallerIdentityChecking,
        keyStore: any SourceKeyStore,
        wallClock: any WallClock,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await EventLoopClock().sleep(for: $0) },
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "credd.rotation")
    ) {
        self.iam = iam
        self.sts = sts
        self.keyStore = keyStore
        self.wallClock = wallClock
        self.sleep = sleep
        self.configuration = configuration
        self.logger = logger
    }

    /// Rotates the key the store holds.
    ///
    /// - Parameter signingSession: the MFA session of these keys (GetSessionToken with MFA), to
    ///   sign the IAM calls with; `nil` signs them with the long-term keys.
    public func rotate(signingSession: AWSCredentials? = nil) async throws(KeyRotationError) -> KeyRotationReport {
        var logger = self.logger
        logger[metadataKey: "credd.section"] = "\(keyStore.location.name)"
        let oldKeys = try await readKeys()
        let userName = try await identifyUser(oldKeys)
        let signer = signingSession ?? oldKeys

        let listed: [AccessKeyMetadata]
        do {
            listed = try await iam.listAccessKeys(userName: userName, credentials: signer)
        } catch {
            throw failure(.listingKeys, .aws(error), inventory: nil, changedNothing: true)
        }
        let baseline = inventory(userName, listed, holding: oldKeys.accessKeyId)
        var inventory = baseline
        func fail(_ stage: KeyRotationError.Stage, _ cause: KeyRotationError.Cause, rollback: [KeyRotationError.Cause] = []) -> KeyRotationError {
            failure(stage, cause, inventory: inventory, rollback: rollback, changedNothing: inventory == baseline)
        }

        guard listed.contains(where: { $0.accessKeyId == oldKeys.accessKeyId }) else {
            throw fail(.keyNotListed, .refused("IAM user \(userName) has no key \(oldKeys.accessKeyId)"))
        }
        guard listed.count < 2 else {
            throw fail(
                .twoKeyLimit,
                .refused("IAM allows two access keys per user and \(userName) already has \(listed.count), so no new key can be created"))
        }

        let newKey: NewAccessKey
        do {
            newKey = try await iam.createAccessKey(userName: userName, credentials: signer)
        } catch {
            // A create that got no answer may still have made a key; list again so the error
            // names it rather than leaving an unknown key behind.
            guard let relisted = try? await iam.listAccessKeys(userName: userName, credentials: signer) else {
                // An error response means IAM refused; anything else leaves it unknown.
                throw failure(.creatingKey, .aws(error), inventory: inventory, changedNothing: error.kind == .service)
            }
            inventory = self.inventory(userName, relisted, holding: oldKeys.accessKeyId)
            throw fail(.creatingKey, .aws(error))
        }
        let newKeyId = newKey.metadata.accessKeyId
        inventory.add(newKeyId)
        logger.info("Created a new access key", metadata: ["aws.access_key_id": "\(newKeyId)", "aws.request_id": "\(newKey.requestId ?? "none")"])

        do {
            try await keyStore.replaceSourceKeys(replacing: oldKeys.accessKeyId, with: newKey.credentials)
        } catch {
            // Nobody else has the new secret, so the key is useless: delete it.
            var rollback: [KeyRotationError.Cause] = []
            do {
                try await iam.deleteAccessKey(accessKeyId: newKeyId, userName: userName, credentials: signer)
                inventory.remove(newKeyId)
            } catch let deleteError {
                rollback.append(.aws(deleteError))
            }
            throw fail(.writingNewKey, .keyStore(error), rollback: rollback)
        }
        inventory.fileHolds = newKeyId
        logger.info("Wrote the new access key to \(keyStore.location.kind)", metadata: ["aws.access_key_id": "\(newKeyId)"])

        let attempts: Int
        switch await waitForAcceptance(of: newKey.credentials) {
        case let .accepted(count):
            attempts = count
        case let .rejected(lastError):
            throw await rollBackUnaccepted(
                oldKeys: oldKeys, newKeyId: newKeyId, signingSession: signingSession, lastError: lastError,
                inventory: &inventory, baseline: baseline)
        }
        logger.info("STS accepts the new access key", metadata: ["aws.access_key_id": "\(newKeyId)", "credd.attempts": "\(attempts)"])

        let retireSigner = signingSession ?? newKey.credentials
        do {
            try await iam.updateAccessKey(accessKeyId: oldKeys.accessKeyId, status: .inactive, userName: userName, credentials: retireSigner)
        } catch {
            throw fail(.deactivatingOldKey, .aws(error))
        }
        inventory.deactivate(oldKeys.accessKeyId)
        do {
            try await iam.deleteAccessKey(accessKeyId: oldKeys.accessKeyId, userName: userName, credentials: retireSigner)
        } catch {
            throw fail(.deletingOldKey, .aws(error))
        }
        inventory.remove(oldKeys.accessKeyId)
        logger.notice("Rotated the access key", metadata: ["aws.old_access_key_id": "\(oldKeys.accessKeyId)", "aws.access_key_id": "\(newKeyId)"])

        return KeyRotationReport(
            location: keyStore.location, userName: userName, oldAccessKeyId: oldKeys.accessKeyId, newAccessKeyId: newKeyId,
            newKeyCreateDate: newKey.metadata.createDate, acceptanceAttempts: attempts, inventory: inventory)
    }

    /// The age of the key the store holds, from ListAccessKeys `CreateDate`.
    public func keyAge(signingSession: AWSCredentials? = nil) async throws(KeyRotationError) -> KeyAge {
        let keys = try await readKeys()
        let userName = try await identifyUser(keys)
        let listed: [AccessKeyMetadata]
        do {
            listed = try await iam.listAccessKeys(userName: userName, credentials: signingSession ?? keys)
        } catch {
            throw failure(.listingKeys, .aws(error), inventory: nil, changedNothing: true)
        }
        guard let key = listed.first(where: { $0.accessKeyId == keys.accessKeyId }) else {
            throw failure(
                .keyNotListed, .refused("IAM user \(userName) has no key \(keys.accessKeyId)"),
                inventory: inventory(userName, listed, holding: keys.accessKeyId), changedNothing: true)
        }
        return KeyAge(
            section: keyStore.location.name, userName: userName, accessKeyId: key.accessKeyId, createDate: key.createDate,
            age: wallClock.now().timeIntervalSince(key.createDate),
            leftoverKeyIds: inventory(userName, listed, holding: keys.accessKeyId).leftoverKeys)
    }

    // MARK: - Steps

    private func readKeys() async throws(KeyRotationError) -> AWSCredentials {
        do {
            return try await keyStore.sourceKeys()
        } catch {
            throw failure(.readingKeys, .keyStore(error), inventory: nil, changedNothing: true)
        }
    }

    private func inventory(_ userName: String, _ listed: [AccessKeyMetadata], holding accessKeyId: String) -> KeyInventory {
        KeyInventory(userName: userName, listed: listed, fileHolds: accessKeyId, heldIn: keyStore.location.kind)
    }

    /// The IAM user name the key belongs to. GetCallerIdentity needs no permission, so this also
    /// checks that the stored key works before anything changes.
    private func identifyUser(_ keys: AWSCredentials) async throws(KeyRotationError) -> String {
        let identity: CallerIdentity
        do {
            identity = try await sts.getCallerIdentity(credentials: keys)
        } catch {
            throw failure(.identifyingUser, .aws(error), inventory: nil, changedNothing: true)
        }
        guard let userName = Self.userName(fromARN: identity.arn) else {
            throw failure(
                .identifyingUser,
                .refused("key \(keys.accessKeyId) belongs to \(identity.arn), not an IAM user; only IAM user keys can be rotated"),
                inventory: nil, changedNothing: true)
        }
        return userName
    }

    /// `arn:aws:iam::123456789012:user/some/path/alice` → `alice`; `nil` for anything but an IAM user.
    static func userName(fromARN arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[5].hasPrefix("user/"),
            let name = parts[5].split(separator: "/").last, parts[5].count > "user/".count
        else { return nil }
        return String(name)
    }

    private enum Acceptance {
        case accepted(attempts: Int)
        case rejected(AWSQueryError)
    }

    /// Calls GetCallerIdentity with the new key until STS accepts it, with doubling waits.
    private func waitForAcceptance(of credentials: AWSCredentials) async -> Acceptance {
        var delay = configuration.acceptanceInitialDelay
        var attempt = 1
        while true {
            let lastError: AWSQueryError
            do {
                _ = try await sts.getCallerIdentity(credentials: credentials)
                return .accepted(attempts: attempt)
            } catch {
                lastError = error
            }
            guard attempt < configuration.acceptanceAttempts else { return .rejected(lastError) }
            logger.debug(
                "STS does not accept the new key yet",
                metadata: [
                    "aws.access_key_id": "\(credentials.accessKeyId)", "aws.error_code": "\(lastError.code ?? "none")",
                    "credd.attempts": "\(attempt)",
                ])
            do {
                try await sleep(delay)
            } catch {
                return .rejected(lastError)
            }
            delay = min(delay * 2, configuration.acceptanceMaxDelay)
            attempt += 1
        }
    }

    /// STS never accepted the new key: put the old key back in the store, then delete the new
    /// one. If the old key cannot go back, the new key stays (the store holds it) and both are named.
    private func rollBackUnaccepted(
        oldKeys: AWSCredentials, newKeyId: String, signingSession: AWSCredentials?, lastError: AWSQueryError,
        inventory: inout KeyInventory, baseline: KeyInventory
    ) async -> KeyRotationError {
        var rollback: [KeyRotationError.Cause] = []
        do {
            try await keyStore.replaceSourceKeys(replacing: newKeyId, with: oldKeys)
            inventory.fileHolds = oldKeys.accessKeyId
            do {
                try await iam.deleteAccessKey(accessKeyId: newKeyId, userName: inventory.userName, credentials: signingSession ?? oldKeys)
                inventory.remove(newKeyId)
            } catch {
                rollback.append(.aws(error))
            }
        } catch {
            rollback.append(.keyStore(error))
        }
        return failure(.waitingForNewKey, .aws(lastError), inventory: inventory, rollback: rollback, changedNothing: inventory == baseline)
    }

    private func failure(
        _ stage: KeyRotationError.Stage, _ cause: KeyRotationError.Cause, inventory: KeyInventory?, rollback: [KeyRotationError.Cause] = [],
        changedNothing: Bool
    ) -> KeyRotationError {
        let error = KeyRotationError(
            location: keyStore.location, stage: stage, cause: cause, inventory: inventory, rollbackFailures: rollback,
            changedNothing: changedNothing)
        logger.error("Key rotation failed", metadata: ["credd.section": "\(keyStore.location.name)", "credd.error": "\(error)"])
        return error
    }
}
