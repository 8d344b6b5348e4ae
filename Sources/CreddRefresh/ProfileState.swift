/// A profile's state as `credd status` and `status --json` name it (docs/design.md §6).
public enum ProfileState: String, Sendable, Hashable, CaseIterable, Codable {
    /// No credentials yet and the first renewal has not finished.
    case pending
    /// Valid credentials in service, next renewal scheduled.
    case fresh
    /// A renewal is in flight.
    case refreshing
    /// The last renewal failed transiently (or waits for its source); a retry is scheduled.
    /// Credentials obtained earlier stay in service until they expire.
    case retrying
    /// Renewal waits for an MFA code from `credd login`.
    case needsMFA = "needs_mfa"
    /// Renewal waits for an IAM Identity Center sign-in (`credd login SESSION`); a new token
    /// renews at once. Credentials in service stay until they expire.
    case needsLogin = "needs_login"
    /// Renewal waits for the keyring holding the source's keys to be unlocked (retried every
    /// few seconds); credentials obtained earlier stay in service until they expire.
    case needsUnlock = "needs_unlock"
    /// The credentials expired and are no longer served; renewal is still being retried.
    case expired
    /// Renewal failed in a way that needs a change (AccessDenied, an unknown key, a bad
    /// parameter), usually on the AWS side: retried slowly (5 minutes, doubling to an hour; the
    /// next retry is `nextRefresh`), and at once on a config change or `credd refresh`.
    case error
}
