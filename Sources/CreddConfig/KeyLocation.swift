/// Where a source profile's long-term keys live: a credentials-file section, or the item the
/// Secret Service holds for the profile (`credd keys add`). Rotation reads and replaces them
/// there, and every message about them names the place.
public enum KeyLocation: Sendable, Hashable, CustomStringConvertible {
    case credentialsFile(path: String, section: String)
    /// The keyring item of the source profile `profile` (what `source_profile` names).
    case keyring(profile: String)

    /// What holds the keys, in general.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case credentialsFile, keyring

        /// "the credentials file" / "the keyring".
        public var description: String {
            switch self {
            case .credentialsFile: "the credentials file"
            case .keyring: "the keyring"
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .credentialsFile: .credentialsFile
        case .keyring: .keyring
        }
    }

    /// The credentials-file section, or the source profile the keyring item belongs to.
    public var name: String {
        switch self {
        case let .credentialsFile(_, section): section
        case let .keyring(profile): profile
        }
    }

    /// The entry itself, in a sentence: "[alice]" / "the keyring item of alice".
    public var entry: String {
        switch self {
        case let .credentialsFile(_, section): "[\(section)]"
        case let .keyring(profile): "the keyring item of \(profile)"
        }
    }

    /// The holder in a short back-reference: "the file" / "the keyring item".
    public var holder: String {
        switch self {
        case .credentialsFile: "the file"
        case .keyring: "the keyring item"
        }
    }

    /// "[alice] of /home/alice/.aws/credentials" / "the keyring item of alice".
    public var description: String {
        switch self {
        case let .credentialsFile(path, section): "[\(section)] of \(path)"
        case .keyring: entry
        }
    }
}
