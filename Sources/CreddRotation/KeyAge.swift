import FoundationEssentials

/// How old the key in the credentials file is, for scheduled rotation.
public struct KeyAge: Sendable, Hashable {
    public let section: String
    public let userName: String
    public let accessKeyId: String
    public let createDate: Date
    /// Seconds since `createDate` at the time of the check.
    public let age: TimeInterval
    /// The user's other keys (a failed rotation's leftovers, or keys made elsewhere), oldest
    /// first: while there are two, rotation cannot create a new one.
    public let leftoverKeyIds: [String]

    public init(section: String, userName: String, accessKeyId: String, createDate: Date, age: TimeInterval, leftoverKeyIds: [String]) {
        self.section = section
        self.userName = userName
        self.accessKeyId = accessKeyId
        self.createDate = createDate
        self.age = age
        self.leftoverKeyIds = leftoverKeyIds
    }
}
