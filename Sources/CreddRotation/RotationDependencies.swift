import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddSTS

/// The IAM calls rotation makes. `IAMClient` in production; tests script a fake.
public protocol AccessKeyManaging: Sendable {
    func listAccessKeys(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> [AccessKeyMetadata]
    func createAccessKey(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> NewAccessKey
    func updateAccessKey(accessKeyId: String, status: AccessKeyStatus, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError)
    func deleteAccessKey(accessKeyId: String, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError)
}

/// STS `GetCallerIdentity`: who a key belongs to, and whether STS accepts it yet.
public protocol CallerIdentityChecking: Sendable {
    func getCallerIdentity(credentials: AWSCredentials) async throws(AWSQueryError) -> CallerIdentity
}

/// Where the keys being rotated live, read and replaced there: ``CredentialsFileKeyStore`` for a
/// credentials-file section, ``SecretServiceKeyStore`` for a keyring item.
public protocol SourceKeyStore: Sendable {
    /// Which section or keyring item, for messages.
    var location: KeyLocation { get }
    func sourceKeys() async throws(KeyStoreError) -> AWSCredentials
    /// Writes `newKeys` only if the store still holds `expectedAccessKeyId` (compare-and-swap):
    /// a key changed by someone else since it was read is never overwritten.
    func replaceSourceKeys(replacing expectedAccessKeyId: String, with newKeys: AWSCredentials) async throws(KeyStoreError)
}

/// Why a key store could not read or replace the keys. Secret-free, like the errors it wraps.
public enum KeyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The credentials file: its own error names the file, line and section.
    case file(CredentialsFileError)
    /// The keyring item of `profile`.
    case keyring(profile: String, KeyringProblem)

    /// What went wrong with a keyring item.
    public enum KeyringProblem: Sendable, Hashable {
        /// Only a locked collection holds the item: reading or writing it needs the keyring unlocked.
        case locked
        /// The keyring holds no keys of the profile (removed since the config was loaded).
        case noKeys
        /// The item holds another key than the one rotation read: someone replaced it meanwhile.
        case keyChanged(holds: String, expected: String)
        /// No session bus or Secret Service, or a D-Bus call failed.
        case unavailable(String)
    }

    public var description: String {
        switch self {
        case let .file(error):
            return error.description
        case let .keyring(profile, .locked):
            return "the keyring holding the keys of \(profile) is locked: run `credd keys unlock` (or unlock it on your desktop)"
        case let .keyring(profile, .noKeys):
            return "the keyring holds no keys of \(profile) any more: store them with `credd keys add \(profile)`"
        case let .keyring(profile, .keyChanged(holds, expected)):
            return "the keyring item of \(profile) holds \(holds), not \(expected) as it did when the rotation read it: it was changed meanwhile"
        case let .keyring(profile, .unavailable(reason)):
            return "cannot use the keyring item of \(profile): \(reason)"
        }
    }

    /// What to do before rotating again.
    var remedy: String {
        switch self {
        case .file: "fix the credentials file problem"
        case .keyring(_, .locked): "run `credd keys unlock`"
        case let .keyring(profile, .noKeys): "store the keys with `credd keys add \(profile)`"
        case .keyring(_, .keyChanged): "see which key the keyring holds with `credd keys list`"
        case .keyring(_, .unavailable): "make sure the desktop session's keyring runs (a session bus with org.freedesktop.secrets)"
        }
    }
}

extension IAMClient: AccessKeyManaging {}
extension STSClient: CallerIdentityChecking {}
