import CreddCore
import CreddINI
import FoundationEssentials
import Glibc

/// Writes credd's sections of `~/.aws/credentials` without disturbing anything else
/// (docs/design.md §4).
///
/// Every `apply` takes an exclusive `flock` on `<file>.lock`, re-reads the file under the lock,
/// edits the lossless document, writes a temp file beside the target (mode 0600, `O_EXCL`),
/// fsyncs it, renames it over the target and fsyncs the directory: a crash leaves the old or the
/// new file, never a partial one. A symlinked file is written through to its final target (the
/// lock and temp files live beside that target). The new file is always mode 0600 whatever the
/// old one had: it holds secrets, and 0600 is what the AWS CLI creates.
///
/// Calls block while another writer holds the lock (up to `Configuration.lockTimeout`) and
/// while the disk syncs, so callers in async code should run them off latency-sensitive tasks.
public struct CredentialsFileWriter: Sendable {
    /// Tunables with safe defaults.
    public struct Configuration: Sendable {
        /// How long to wait for another writer's lock before giving up.
        public var lockTimeout: Duration

        public init(lockTimeout: Duration = .seconds(10)) {
            self.lockTimeout = lockTimeout
        }
    }

    /// The session's account, as botocore reads it from a credentials file profile.
    public static let accountIdKey = "aws_account_id"
    /// The key that carries the profile identity a session was issued for. AWS tools ignore
    /// keys they do not know, as they ignore `x_security_token_expires`.
    public static let identityKey = "x_credd_identity"

    /// The credentials file as configured; symlinks are followed on every write.
    public let path: String
    private let clock: any WallClock
    let configuration: Configuration
    let system: SystemCalls

    public init(path: String, clock: any WallClock, configuration: Configuration = Configuration()) {
        self.init(path: path, clock: clock, configuration: configuration, system: .live)
    }

    init(path: String, clock: any WallClock, configuration: Configuration, system: SystemCalls) {
        self.path = path
        self.clock = clock
        self.configuration = configuration
        self.system = system
    }

    /// Applies `updates` in one rewrite and reports each one's outcome, in order. A refused
    /// update (a section credd does not own, incomplete or expired credentials, …) does not stop
    /// the others. Throws, writing nothing, when the file as a whole cannot be read, parsed,
    /// locked or written.
    @discardableResult
    public func apply(_ updates: [SectionUpdate]) throws(CredentialsFileError) -> [SectionOutcome] {
        let target = try resolveSymlinks(path)
        let directory = Self.directory(of: target)
        try ensureDirectory(directory, for: target)
        return try rewrite(target, directory: directory) { original throws(CredentialsFileError) in
            var document = try parse(original ?? [], file: target)
            let now = clock.now()
            var outcomes: [SectionOutcome] = []
            var changed = false
            for update in updates {
                // A refused update throws before its first edit, so the others edit in place.
                let result = Result { () throws(CredentialsFileError) -> SectionOutcome.Change in
                    try apply(update, to: &document, file: target, now: now)
                }
                if case let .success(change) = result, change != .unchanged, change != .absent {
                    changed = true
                }
                outcomes.append(SectionOutcome(section: update.section, result: result))
            }
            let bytes = document.serializedBytes()
            return (changed && bytes != original ? bytes : nil, outcomes)
        }
    }

    /// The sections that carry credd's marker, so the daemon can remove those whose profiles
    /// left the config. An absent file owns nothing.
    public func ownedSections() throws(CredentialsFileError) -> [String] {
        let target = try resolveSymlinks(path)
        guard let bytes = try readFile(target) else { return [] }
        return try parse(bytes, file: target).sections.filter(CreddManagedSection.isManaged).map(\.name)
    }

    // MARK: - Editing

    /// Checks everything before the first edit (`INIDocument`'s edits validate before changing
    /// anything too), so a refused update leaves `document` as it was.
    private func apply(_ update: SectionUpdate, to document: inout INIDocument, file: String, now: Date) throws(CredentialsFileError)
        -> SectionOutcome.Change
    {
        let name = update.section
        let headerLine = try editableHeaderLine(of: name, in: document, file: file)
        switch update {
        case .remove:
            guard let headerLine else { return .absent }
            if document.removingSectionChangesFollowingLines(named: name) {
                throw CredentialsFileError(
                    reason: .wouldChangeNextSection, file: file, line: headerLine, section: name,
                    message:
                        "removing this section would make the indented section header after it part of the value before it (AWS tools read an indented line after a key as its continuation); unindent that header, or delete this section by hand; nothing was removed"
                )
            }
            document.removeSection(named: name)
            return .removed
        case let .write(_, credentials, identity):
            var values = try managedValues(credentials, file: file, section: name, now: now)
            if let identity { values.append((Self.identityKey, identity)) }
            do {
                guard headerLine != nil else {
                    try document.appendSection(name, comments: [CreddManagedSection.marker], entries: values)
                    return .created
                }
                var changed = try document.setValues(values, inSection: name)
                // A session whose account is unknown must not keep the previous session's.
                if credentials.accountId == nil, document.removeValue(forKey: Self.accountIdKey, inSection: name) { changed = true }
                return changed ? .updated : .unchanged
            } catch {
                throw CredentialsFileError(
                    reason: .unwritableValue, file: file, line: headerLine, section: name,
                    message: "\(error.description); nothing was written for this section")
            }
        }
    }

    /// The header's line number of section `name`, `nil` when there is none; throws when the
    /// section is there but credd may not edit it. Returns a number rather than the section
    /// view: a view alive during the edit would make the edit copy every line of the file.
    private func editableHeaderLine(of name: String, in document: INIDocument, file: String) throws(CredentialsFileError) -> Int? {
        guard let existing = document.section(named: name) else { return nil }
        if document.sectionCount(named: name) > 1 {
            let repeated = document.lines[existing.endIndex...].firstIndex { $0.kind == .sectionHeader(name: name) }.map { $0 + 1 }
            throw CredentialsFileError(
                reason: .duplicateSection, file: file, line: repeated, section: name,
                message: "the section appears more than once (first at line \(existing.headerLineNumber)), which AWS tools reject; merge them by hand"
            )
        }
        guard CreddManagedSection.isManaged(existing) else {
            throw CredentialsFileError(
                reason: .notOwned, file: file, line: existing.headerLineNumber, section: name,
                message:
                    "the section exists and was not written by credd (no '\(CreddManagedSection.marker)' line after the header); credd will not touch it: rename it, or set credentials_section to another name"
            )
        }
        if let problem = document.diagnostics(in: existing).first {
            throw CredentialsFileError(
                reason: .malformedSection, file: file, line: problem.line, section: name,
                message: "\(problem.message); fix the section by hand or delete it")
        }
        return existing.headerLineNumber
    }

    /// The managed keys. Refuses what must never reach a user's file: incomplete or expired
    /// credentials.
    private func managedValues(_ credentials: AWSCredentials, file: String, section: String, now: Date) throws(CredentialsFileError) -> [(
        key: String, value: String
    )] {
        var missing: [String] = []
        if credentials.accessKeyId.isEmpty { missing.append("access key id") }
        if credentials.secretAccessKey.isEmpty { missing.append("secret access key") }
        if credentials.sessionToken?.isEmpty ?? true { missing.append("session token") }
        if credentials.expiration == nil { missing.append("expiration") }
        guard missing.isEmpty, let token = credentials.sessionToken, let expiration = credentials.expiration else {
            throw CredentialsFileError(
                reason: .incompleteCredentials, file: file, section: section,
                message: "refusing to write incomplete session credentials (missing \(missing.joined(separator: ", ")))")
        }
        guard credentials.isValid(at: now) else {
            throw CredentialsFileError(
                reason: .expiredCredentials, file: file, section: section,
                message: "refusing to write credentials that expired at \(AWSTimestamp.format(expiration))")
        }
        // Both token names carry the same value: botocore reads aws_security_token first, so a
        // stale one would win.
        var values: [(key: String, value: String)] = [
            ("aws_access_key_id", credentials.accessKeyId),
            ("aws_secret_access_key", credentials.secretAccessKey.revealed),
            ("aws_session_token", token.revealed),
            ("aws_security_token", token.revealed),
        ]
        if let account = credentials.accountId, AWSARN.isAccountID(account) { values.append((Self.accountIdKey, account)) }
        values.append(("x_security_token_expires", AWSTimestamp.format(expiration)))
        return values
    }

    func parse(_ bytes: [UInt8], file: String) throws(CredentialsFileError) -> INIDocument {
        do {
            return try INIDocument(bytes: bytes)
        } catch {
            var line: Int?
            if case let .invalidUTF8(errorLine) = error { line = errorLine }
            throw CredentialsFileError(
                reason: .invalidUTF8, file: file, line: line,
                message: "the file is not valid UTF-8, so credd cannot edit it without changing bytes it does not own; nothing was written")
        }
    }
}
