import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddSTS

/// Why a rotation stopped, what state it left, and what the user should do.
///
/// Secret-free: it holds key ids, AWS error codes and request ids, file names and lines, never a
/// secret key (the underlying `AWSQueryError` and `KeyStoreError` are secret-free too).
public struct KeyRotationError: Error, Sendable, Hashable {
    /// The step that failed.
    public enum Stage: Sendable, Hashable {
        /// Reading the keys from the credentials file or keyring.
        case readingKeys
        /// Asking STS whose key the store holds (the key itself may be rejected).
        case identifyingUser
        case listingKeys
        /// The stored key is not one of the user's keys.
        case keyNotListed
        /// The user already has two keys, IAM's limit.
        case twoKeyLimit
        case creatingKey
        case writingNewKey
        /// STS never accepted the new key within the configured attempts.
        case waitingForNewKey
        case deactivatingOldKey
        case deletingOldKey
    }

    /// What went wrong, from the module that saw it.
    public enum Cause: Sendable, Hashable, CustomStringConvertible {
        case aws(AWSQueryError)
        /// The credentials file or the keyring.
        case keyStore(KeyStoreError)
        /// credd declined to go on (two keys, not an IAM user, …).
        case refused(String)

        public var description: String {
            switch self {
            case let .aws(error):
                // AWSQueryError's own description ends in advice for STS refreshes; rotation gives its own.
                let facts = [error.httpStatus.map { "HTTP \($0)" }, error.requestId.map { "request id \($0)" }].compactMap { $0 }
                let what: String
                switch error.kind {
                case .service: what = error.code ?? "error without an AWS error code"
                case .transport: what = "no response"
                case .malformedResponse: what = "unreadable response"
                case .invalidParameter: what = "invalid parameter"
                }
                return
                    "\(error.service) \(error.action) failed: \(what)\(facts.isEmpty ? "" : " (\(facts.joined(separator: ", ")))"): \(error.message)"
            case let .keyStore(error): return error.description
            case let .refused(reason): return reason
            }
        }
    }

    /// The credentials file section or keyring item holding the keys.
    public let location: KeyLocation
    public let stage: Stage
    public let cause: Cause
    /// The keys that exist now and the one the store holds; `nil` before the user's keys were listed.
    public let inventory: KeyInventory?
    /// Steps of a roll-back that failed too, in order.
    public let rollbackFailures: [Cause]
    /// True when IAM and the store are exactly as before the rotation: it is safe to run it again.
    public let changedNothing: Bool

    public init(
        location: KeyLocation, stage: Stage, cause: Cause, inventory: KeyInventory?, rollbackFailures: [Cause], changedNothing: Bool
    ) {
        self.location = location
        self.stage = stage
        self.cause = cause
        self.inventory = inventory
        self.rollbackFailures = rollbackFailures
        self.changedNothing = changedNothing
    }

    /// What the user should do now.
    public var nextStep: String {
        if let inventory, !changedNothing, stage != .twoKeyLimit, !inventory.leftoverKeys.isEmpty {
            let commands = inventory.leftoverKeys.map { "aws iam delete-access-key --user-name \(inventory.userName) --access-key-id \($0)" }
            return
                "\(location.kind) holds \(inventory.fileHolds); once nothing else uses the other key, delete it: \(commands.joined(separator: "; "))"
        }
        switch stage {
        case .readingKeys:
            if case let .keyStore(error) = cause, case .keyring = error { return "\(error.remedy), then rotate again" }
            return "fix the credentials file as described, then rotate again"
        case .identifyingUser:
            return "make sure \(location.entry) holds a working key of an IAM user, then rotate again"
        case .creatingKey where !changedNothing:
            let user = inventory?.userName ?? "USER"
            return
                "the failed call may still have created a key: run `aws iam list-access-keys --user-name \(user)`, delete any key that is not in \(location.holder), then rotate again"
        case .listingKeys, .creatingKey, .deactivatingOldKey, .deletingOldKey:
            if case let .aws(error) = cause, error.disposition == .sourceExpired {
                return "the session that signs the IAM calls has expired; renew it (`credd login PROFILE` or `credd refresh`), then rotate again"
            }
            if case let .aws(error) = cause, error.code == "AccessDenied" {
                return
                    "allow iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey on your own user; if the policy requires MFA, rotate while the MFA session is logged in"
            }
            return "rotate again later"
        case .keyNotListed:
            return "check that \(location.entry) holds the key of the IAM user credd signs IAM calls for"
        case .twoKeyLimit:
            let others = inventory?.leftoverKeys ?? []
            let commands = others.map { "aws iam delete-access-key --user-name \(inventory?.userName ?? "USER") --access-key-id \($0)" }
            return "if nothing uses the key that is not in \(location.holder), delete it (\(commands.joined(separator: "; "))), then rotate again"
        case .writingNewKey:
            if case let .keyStore(error) = cause { return "\(error.remedy), then rotate again" }
            return "fix the credentials file problem, then rotate again"
        case .waitingForNewKey:
            return "check the STS endpoint and network, then rotate again"
        }
    }

    /// The failure as `credd status` shows it.
    public var refreshFailure: RefreshFailure {
        RefreshFailure(disposition: .needsChange, message: description)
    }
}

extension KeyRotationError: CustomStringConvertible {
    /// One line: the step, the cause, the state left behind and what to do next.
    public var description: String {
        var text = "Rotating the keys in \(location) failed while \(stage.activity(location)): \(cause)."
        for failure in rollbackFailures {
            text += " Rolling back also failed: \(failure)."
        }
        if let inventory { text += " Now: \(inventory)." }
        if changedNothing { text += " Nothing was changed." }
        return text + " Next: \(nextStep)"
    }
}

extension KeyRotationError.Stage {
    /// "while …" wording for messages about the keys in `location`.
    func activity(_ location: KeyLocation) -> String {
        switch self {
        case .readingKeys: return "reading the current keys"
        case .identifyingUser: return "checking the current key with STS"
        case .listingKeys: return "listing the user's access keys"
        case .keyNotListed: return "matching \(location.holder)'s key to the user's keys"
        case .twoKeyLimit: return "checking the two-key limit"
        case .creatingKey: return "creating the new key"
        case .writingNewKey: return "writing the new key to \(location.holder)"
        case .waitingForNewKey: return "waiting for STS to accept the new key"
        case .deactivatingOldKey: return "deactivating the old key"
        case .deletingOldKey: return "deleting the old key"
        }
    }
}
