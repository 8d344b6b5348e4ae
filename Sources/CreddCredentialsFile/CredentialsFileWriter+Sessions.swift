import CreddCore
import CreddINI

/// A session credd wrote into one of its own sections, as a later start reads it back.
public struct StoredSession: Sendable, Hashable {
    public let credentials: AWSCredentials
    /// The profile identity written with the session; `nil` when the section has none (written
    /// by an older credd), which no profile matches.
    public let identity: String?

    public init(credentials: AWSCredentials, identity: String?) {
        self.credentials = credentials
        self.identity = identity
    }
}

/// Reading back what credd wrote, so that a restart takes over sessions that are still valid
/// instead of asking STS (and the user, for an MFA code) again.
extension CredentialsFileWriter {
    /// The complete sessions in credd's own sections, by section name. A section with a
    /// missing key, an unreadable expiry or a malformed line is left out: it is not adopted, and
    /// the next renewal rewrites it. An absent file holds none.
    public func storedSessions() throws(CredentialsFileError) -> [String: StoredSession] {
        let target = try resolveSymlinks(path)
        guard let bytes = try readFile(target) else { return [:] }
        let document = try parse(bytes, file: target)
        var sessions: [String: StoredSession] = [:]
        for section in document.sections where CreddManagedSection.isManaged(section) {
            guard document.sectionCount(named: section.name) == 1, document.diagnostics(in: section).isEmpty else { continue }
            func value(_ key: String) -> String? {
                section.entry(forKey: key).flatMap { $0.continuation.isEmpty && !$0.value.isEmpty ? $0.value : nil }
            }
            guard let keyId = value("aws_access_key_id"), let secret = value("aws_secret_access_key"),
                let token = value("aws_session_token"), let expiry = value("x_security_token_expires"),
                let expiration = AWSTimestamp.parse(expiry)
            else { continue }
            let credentials = AWSCredentials(
                accessKeyId: keyId, secretAccessKey: Secret(secret), sessionToken: Secret(token), expiration: expiration,
                accountId: value(Self.accountIdKey).flatMap { AWSARN.isAccountID($0) ? $0 : nil })
            sessions[section.name] = StoredSession(credentials: credentials, identity: value(Self.identityKey))
        }
        return sessions
    }
}
