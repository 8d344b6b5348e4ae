import CreddCore
import FoundationEssentials

/// What the endpoint knows about one profile when a client asks for it.
public enum EndpointLookup: Sendable {
    /// The profile's current credentials, already rendered for serving; the endpoint still
    /// checks their expiry against its clock on every request.
    case available(PublishedCredentials)
    /// A managed profile without usable credentials; `reason` is secret-free and tells the user what to do.
    case unavailable(reason: String)
    /// No managed profile has that name.
    case unknown

    /// Renders `credentials` for serving; `roleArn` is set for AssumeRole sessions, `lastUpdated`
    /// is when they were obtained.
    public static func available(_ credentials: AWSCredentials, roleArn: String?, lastUpdated: Date) -> EndpointLookup {
        .available(PublishedCredentials(credentials, roleArn: roleArn, lastUpdated: lastUpdated))
    }
}

/// Where the endpoint gets credentials from: the daemon's refresh state, or a fake in tests.
public protocol EndpointCredentialSource: Sendable {
    /// The credentials to serve for `profile` right now. Called on the endpoint's event loop for
    /// every credential request, so it must answer from memory, without blocking.
    func lookup(profile: String) -> EndpointLookup
}
