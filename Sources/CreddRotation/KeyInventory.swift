import CreddConfig
import CreddSTS

/// Which access keys an IAM user has, as far as credd knows after its own calls, and which one
/// the key store (the credentials file or the keyring) holds. Key ids only: never a secret.
public struct KeyInventory: Sendable, Hashable {
    public struct Key: Sendable, Hashable {
        public let accessKeyId: String
        public var status: AccessKeyStatus

        public init(accessKeyId: String, status: AccessKeyStatus) {
            self.accessKeyId = accessKeyId
            self.status = status
        }
    }

    public let userName: String
    /// The user's keys, oldest first.
    public internal(set) var keys: [Key]
    /// The access key id in the credentials file section or keyring item.
    public internal(set) var fileHolds: String
    /// What holds `fileHolds`, for messages.
    public let heldIn: KeyLocation.Kind

    public init(userName: String, keys: [Key], fileHolds: String, heldIn: KeyLocation.Kind = .credentialsFile) {
        self.userName = userName
        self.keys = keys
        self.fileHolds = fileHolds
        self.heldIn = heldIn
    }

    init(userName: String, listed: [AccessKeyMetadata], fileHolds: String, heldIn: KeyLocation.Kind) {
        self.init(
            userName: userName,
            keys: listed.sorted { $0.createDate < $1.createDate }.map { Key(accessKeyId: $0.accessKeyId, status: $0.status) },
            fileHolds: fileHolds, heldIn: heldIn)
    }

    /// Keys that exist but are not in the store: what the user may need to delete.
    public var leftoverKeys: [String] {
        keys.map(\.accessKeyId).filter { $0 != fileHolds }
    }

    mutating func add(_ accessKeyId: String) {
        keys.append(Key(accessKeyId: accessKeyId, status: .active))
    }

    mutating func remove(_ accessKeyId: String) {
        keys.removeAll { $0.accessKeyId == accessKeyId }
    }

    mutating func deactivate(_ accessKeyId: String) {
        if let index = keys.firstIndex(where: { $0.accessKeyId == accessKeyId }) { keys[index].status = .inactive }
    }
}

extension KeyInventory: CustomStringConvertible {
    /// `IAM user alice has AKIA…1 (active, in the credentials file) and AKIA…2 (inactive)`; for a
    /// keyring item, `in the keyring`.
    public var description: String {
        let listed = keys.map { key in
            let status = key.status == .active ? "active" : "inactive"
            return "\(key.accessKeyId) (\(status)\(key.accessKeyId == fileHolds ? ", in \(heldIn)" : ""))"
        }
        var text: String
        switch listed.count {
        case 0: text = "IAM user \(userName) has no access keys"
        case 1: text = "IAM user \(userName) has \(listed[0])"
        default: text = "IAM user \(userName) has \(listed.dropLast().joined(separator: ", ")) and \(listed[listed.count - 1])"
        }
        if !keys.contains(where: { $0.accessKeyId == fileHolds }) {
            text += "; \(heldIn) holds \(fileHolds)"
        }
        return text
    }
}
