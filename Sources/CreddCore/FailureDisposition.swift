/// What a failed renewal means for the refresh schedule, decided by the module that saw the
/// failure (STS client, credential source, MFA prompt) and acted on by the refresh state machine.
public enum FailureDisposition: Sendable, Hashable {
    /// Transient (throttling, 5xx, timeouts, connection errors): retry with backoff.
    case retryable
    /// Will fail again until something changes (config edit, new MFA code, `credd refresh`).
    case needsChange
    /// The source session expired: renew the source first, then retry.
    case sourceExpired
    /// An MFA code was rejected or is required: wait for `credd login`.
    case needsMFA
    /// The IAM Identity Center session needs a sign-in (`credd login SESSION`): wait for a new
    /// token rather than retry.
    case needsLogin
    /// The Secret Service collection holding the source's keys is locked: the desktop's own
    /// prompt unlocks it; retried at a short fixed interval meanwhile.
    case needsUnlock
}

/// A renewal failure as the scheduler and `credd status` see it: secret-free by construction.
public struct RefreshFailure: Error, Sendable, Hashable {
    public let disposition: FailureDisposition
    /// One line for `credd status`: names the AWS error code, request id and what to do next.
    public let message: String

    public init(disposition: FailureDisposition, message: String) {
        self.disposition = disposition
        self.message = message
    }
}

extension RefreshFailure: CustomStringConvertible {
    public var description: String { message }
}
