import CreddCore

/// Why a profile's credentials leave service.
public enum WithdrawalReason: Sendable, Hashable {
    /// They expired before a renewal succeeded.
    case expired
    /// The profile is no longer in the config: remove whatever credd wrote for it.
    case removed
}

/// One change to what credd serves and writes.
public enum CredentialUpdate: Sendable, Hashable {
    /// New valid credentials replace the profile's previous ones.
    case published(profile: String, credentials: AWSCredentials)
    /// The profile has nothing valid to serve any more.
    case withdrawn(profile: String, reason: WithdrawalReason)

    /// The profile the update is about.
    public var profile: String {
        switch self {
        case .published(let profile, _), .withdrawn(let profile, _): profile
        }
    }
}

/// Receives credential updates, in order, in batches: renewals that complete together arrive in
/// one batch so the credentials file is rewritten once per batch, not once per profile.
public protocol CredentialSink: Sendable {
    /// Applies one batch. Calls never overlap; failures are the sink's to report.
    func apply(_ batch: [CredentialUpdate]) async
}
