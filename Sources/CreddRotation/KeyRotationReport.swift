import CreddConfig
import FoundationEssentials

/// A finished rotation: the new key is in the store and works, the old one is gone.
public struct KeyRotationReport: Sendable, Hashable, CustomStringConvertible {
    /// The credentials file section or keyring item holding the keys.
    public let location: KeyLocation
    public let userName: String
    public let oldAccessKeyId: String
    public let newAccessKeyId: String
    /// The new key's `CreateDate`: the start of its age for scheduled rotation.
    public let newKeyCreateDate: Date
    /// GetCallerIdentity calls it took until STS accepted the new key.
    public let acceptanceAttempts: Int
    /// Afterwards: only the new key, held by the store.
    public let inventory: KeyInventory

    public init(
        location: KeyLocation, userName: String, oldAccessKeyId: String, newAccessKeyId: String, newKeyCreateDate: Date,
        acceptanceAttempts: Int, inventory: KeyInventory
    ) {
        self.location = location
        self.userName = userName
        self.oldAccessKeyId = oldAccessKeyId
        self.newAccessKeyId = newAccessKeyId
        self.newKeyCreateDate = newKeyCreateDate
        self.acceptanceAttempts = acceptanceAttempts
        self.inventory = inventory
    }

    public var description: String {
        "Rotated the keys in \(location): \(location.holder) holds the new key \(newAccessKeyId), which STS accepts; the old key \(oldAccessKeyId) was deactivated and deleted. Now: \(inventory)."
    }
}
