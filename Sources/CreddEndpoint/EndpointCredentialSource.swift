import CreddCore
import Foundation

/// What the endpoint knows about one profile when a client asks for it.
public enum EndpointLookup: Sendable {
    /// Current credentials; `roleArn` is set for AssumeRole sessions, `lastUpdated` is when they were obtained.
    case available(AWSCredentials, roleArn: String?, lastUpdated: Date)
    /// A managed profile without usable credentials; `reason` is secret-free and tells the user what to do.
    case unavailable(reason: String)
    /// No managed profile has that name.
    case unknown
}

/// Where the endpoint gets credentials from: the daemon's refresh state, or a fake in tests.
public protocol EndpointCredentialSource: Sendable {
    /// The credentials to serve for `profile` right now.
    func lookup(profile: String) async -> EndpointLookup
}
