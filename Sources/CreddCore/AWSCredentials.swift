import FoundationEssentials

/// A set of AWS credentials: long-term keys (no token, no expiry) or an STS session.
///
/// The secret parts are `Secret`s, so `description` shows only the access key id and expiry.
public struct AWSCredentials: Sendable, Hashable {
    public let accessKeyId: String
    public let secretAccessKey: Secret
    public let sessionToken: Secret?
    /// When the credentials stop working; `nil` for long-term keys.
    public let expiration: Date?
    /// The 12-digit account the credentials belong to, when known: SDKs use it for
    /// account-based endpoints. Not a secret.
    public let accountId: String?

    public init(accessKeyId: String, secretAccessKey: Secret, sessionToken: Secret? = nil, expiration: Date? = nil, accountId: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.accountId = accountId
    }

    /// The same credentials, said to belong to `accountId`.
    public func withAccountId(_ accountId: String?) -> AWSCredentials {
        AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken, expiration: expiration, accountId: accountId)
    }

    /// True when every part a client needs is present: an empty key or token is never a success.
    public var isComplete: Bool {
        !accessKeyId.isEmpty && !secretAccessKey.isEmpty && (sessionToken.map { !$0.isEmpty } ?? true)
    }

    /// Whether the credentials are still usable at `now` (long-term keys always are).
    public func isValid(at now: Date) -> Bool {
        guard isComplete else { return false }
        guard let expiration else { return true }
        return expiration > now
    }
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let expiry = expiration.map { AWSTimestamp.format($0) } ?? "never"
        return
            "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"), expiration: \(expiry))"
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
