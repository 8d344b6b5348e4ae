import Foundation

/// A finished rotation: the new key is in the file and works, the old one is gone.
public struct KeyRotationReport: Sendable, Hashable, CustomStringConvertible {
    public let section: String
    public let file: String
    public let userName: String
    public let oldAccessKeyId: String
    public let newAccessKeyId: String
    /// The new key's `CreateDate`: the start of its age for scheduled rotation.
    public let newKeyCreateDate: Date
    /// GetCallerIdentity calls it took until STS accepted the new key.
    public let acceptanceAttempts: Int
    /// Afterwards: only the new key, held by the file.
    public let inventory: KeyInventory

    public var description: String {
        "Rotated the keys in [\(section)] of \(file): the file holds the new key \(newAccessKeyId), which STS accepts; the old key \(oldAccessKeyId) was deactivated and deleted. Now: \(inventory)."
    }
}

/// How old the key in the credentials file is, for scheduled rotation.
public struct KeyAge: Sendable, Hashable {
    public let section: String
    public let userName: String
    public let accessKeyId: String
    public let createDate: Date
    /// Seconds since `createDate` at the time of the check.
    public let age: TimeInterval

    /// When a key of this age is due under `interval`.
    public func nextRotation(after interval: RotationInterval) -> Date {
        createDate.addingTimeInterval(interval.timeInterval)
    }

    /// Whether the key has passed `interval`.
    public func isDue(after interval: RotationInterval) -> Bool {
        age >= interval.timeInterval
    }
}
