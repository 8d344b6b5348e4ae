import CreddCore
import FoundationEssentials

/// One profile as `credd status` shows it. Holds no secrets.
public struct ProfileStatus: Sendable, Hashable {
    public let name: String
    public let state: ProfileState
    /// Expiry of the credentials in service; `nil` when none are.
    public let expiration: Date?
    /// When the next renewal (or retry) is planned.
    public let nextRefresh: Date?
    /// When the last renewal succeeded.
    public let lastRefresh: Date?
    /// The last failure, naming what to do next; `nil` after a success.
    public let lastError: String?
    /// The managed profile this one is chained on.
    public let sourceProfile: String?
    /// What `credd login` takes to sign in to the profile's IAM Identity Center session, if it
    /// renews with one.
    public let signInName: String?

    public init(
        name: String,
        state: ProfileState,
        expiration: Date?,
        nextRefresh: Date?,
        lastRefresh: Date?,
        lastError: String?,
        sourceProfile: String?,
        signInName: String? = nil
    ) {
        self.name = name
        self.state = state
        self.expiration = expiration
        self.nextRefresh = nextRefresh
        self.lastRefresh = lastRefresh
        self.lastError = lastError
        self.sourceProfile = sourceProfile
        self.signInName = signInName
    }
}

/// The result of `refresh` for one requested profile.
public struct RefreshOutcome: Sendable, Hashable {
    public let profile: String
    /// The profile's status after the renewal, or why it did not renew.
    public let result: Result<ProfileStatus, RefreshFailure>
}
