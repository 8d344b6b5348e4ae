/// Why the credentials file, or one section of it, was not written. Names the file, the line
/// and section when known, and the system's reason; never a credential value.
public struct CredentialsFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure, for callers that react differently (e.g. retry after a lock timeout).
    public enum Reason: Sendable, Hashable {
        /// The section exists without credd's marker: it belongs to the user or another tool.
        case notOwned
        /// The section appears more than once; botocore rejects such a file.
        case duplicateSection
        /// The section has a duplicate key or an unparseable line.
        case malformedSection
        /// Missing key, secret, session token or expiry: never written.
        case incompleteCredentials
        case expiredCredentials
        /// A section name or value that cannot be written as one INI line.
        case unwritableValue
        /// Removing credd's section would change how the user's next section reads.
        case wouldChangeNextSection
        /// The file is not valid UTF-8.
        case invalidUTF8
        case unreadable
        case lockFailed
        /// Another process held the lock for longer than `Configuration.lockTimeout`.
        case lockTimedOut
        case writeFailed
        /// Another program changed the file between credd's read and its rename, on every attempt.
        case changedDuringWrite
        /// Another program had the file open for writing (rewriting it in place) on every attempt.
        case beingWritten
        /// The path is a chain of symlinks that does not end.
        case symlinkLoop
        /// A FIFO, a directory, a device or a socket is where the file should be: credd never
        /// opens one (a FIFO would block it) nor replaces it.
        case notRegularFile
        /// The file (usually reached through a symlink) belongs to another user: replacing it
        /// would take it from them.
        case ownedByAnotherUser
        /// Key rotation: the section, or its `aws_access_key_id` / `aws_secret_access_key`, is not there.
        case sourceKeysMissing
        /// Key rotation: the section holds session credentials or is credd's own, not long-term keys.
        case notSourceKeys
        /// Key rotation: the section no longer holds the key it held when rotation began.
        case sourceKeysChanged
    }

    public let reason: Reason
    /// The file (or lock file) involved, after following symlinks.
    public let file: String
    /// 1-based, when a line is at fault.
    public let line: Int?
    /// The section the failure concerns; `nil` when the whole file failed.
    public let section: String?
    /// The operating system's description of the failure (`strerror`), when there is one.
    public let systemError: String?
    /// What happened and what to do, without any credential value.
    public let message: String

    public init(reason: Reason, file: String, line: Int? = nil, section: String? = nil, systemError: String? = nil, message: String) {
        self.reason = reason
        self.file = file
        self.line = line
        self.section = section
        self.systemError = systemError
        self.message = message
    }

    /// `file:line: [section] message: system error`.
    public var description: String {
        var text = file + (line.map { ":\($0)" } ?? "") + ":"
        if let section { text += " [\(section)]" }
        text += " " + message
        if let systemError { text += ": " + systemError }
        return text
    }
}
