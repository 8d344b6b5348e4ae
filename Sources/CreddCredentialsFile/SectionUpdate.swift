import CreddCore

/// One change to a credd-managed section of the credentials file.
public enum SectionUpdate: Sendable, Hashable {
    /// Create the section, or replace the credentials in a section credd owns. `identity` is
    /// the digest of the profile definition the session was issued for, written beside it so
    /// that a later start adopts the session only for that definition.
    case write(section: String, credentials: AWSCredentials, identity: String? = nil)
    /// Delete a section credd owns (its profile left the config).
    case remove(section: String)

    /// The section the update concerns.
    public var section: String {
        switch self {
        case let .write(section, _, _), let .remove(section): return section
        }
    }
}

/// What happened to one update of a batch.
public struct SectionOutcome: Sendable, Hashable {
    /// What a successful update did.
    public enum Change: Sendable, Hashable {
        case created
        case updated
        /// The section already held exactly these values.
        case unchanged
        case removed
        /// A removal of a section that was not there.
        case absent
    }

    public let section: String
    /// The change made, or why this section was refused (the other updates still applied).
    public let result: Result<Change, CredentialsFileError>

    public init(section: String, result: Result<Change, CredentialsFileError>) {
        self.section = section
        self.result = result
    }
}
