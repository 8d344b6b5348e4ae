import CreddCore
import CreddINI
import Glibc

/// Reading and replacing the long-term keys in a section the user owns, for key rotation.
///
/// This is the only way credd edits a user's own section, and it is deliberately narrow: it
/// changes exactly the `aws_access_key_id` and `aws_secret_access_key` lines of one section,
/// and only while that section still holds the key the caller expects (a compare-and-swap under
/// the lock, so a concurrent hand edit is never overwritten). Every other byte stays as it was;
/// the write follows the same lock, temp file, fsync and rename discipline as `apply`.
extension CredentialsFileWriter {
    /// The long-term keys of the user's section `section`.
    ///
    /// Throws when the section is missing, duplicated, malformed, credd's own, holds a session
    /// token, or lacks either key.
    public func sourceKeys(inSection section: String) throws(CredentialsFileError) -> AWSCredentials {
        let target = try resolveSymlinks(path)
        guard let bytes = try readFile(target) else { throw missingFile(target, section: section) }
        return try sourceKeys(in: try parse(bytes, file: target), section: section, file: target)
    }

    /// Replaces the two key lines of `section` with `newKeys`, if the section still holds
    /// `expectedAccessKeyId`; otherwise writes nothing and throws `sourceKeysChanged`.
    ///
    /// `newKeys` must be long-term keys: an id and a secret, no session token, no expiry.
    public func replaceSourceKeys(
        inSection section: String, replacing expectedAccessKeyId: String, with newKeys: AWSCredentials
    ) throws(CredentialsFileError) {
        guard !newKeys.accessKeyId.isEmpty, !newKeys.secretAccessKey.isEmpty else {
            throw CredentialsFileError(
                reason: .incompleteCredentials, file: path, section: section,
                message: "refusing to write a key without an access key id or secret; nothing was written")
        }
        guard newKeys.sessionToken == nil, newKeys.expiration == nil else {
            throw CredentialsFileError(
                reason: .notSourceKeys, file: path, section: section,
                message: "refusing to write session credentials where long-term keys belong; nothing was written")
        }
        let target = try resolveSymlinks(path)
        let directory = Self.directory(of: target)
        try rewrite(target, directory: directory) { (original: [UInt8]?) throws(CredentialsFileError) -> (bytes: [UInt8]?, outcome: Void) in
            guard let original else { throw missingFile(target, section: section) }
            var document = try parse(original, file: target)
            let current = try sourceKeys(in: document, section: section, file: target)
            guard current.accessKeyId == expectedAccessKeyId else {
                throw CredentialsFileError(
                    reason: .sourceKeysChanged, file: target, line: document.section(named: section)?.entry(forKey: "aws_access_key_id")?.lineNumber,
                    section: section,
                    message:
                        "the section now holds key \(current.accessKeyId), not \(expectedAccessKeyId): it was edited meanwhile; nothing was written")
            }
            do throws(INIError) {
                try document.setValues(
                    [("aws_access_key_id", newKeys.accessKeyId), ("aws_secret_access_key", newKeys.secretAccessKey.revealed)], inSection: section)
            } catch {
                throw CredentialsFileError(
                    reason: .unwritableValue, file: target, section: section, message: "\(error.description); nothing was written")
            }
            let bytes = document.serializedBytes()
            return (bytes != original ? bytes : nil, ())
        }
    }

    /// Removes `section`, whose long-term keys moved elsewhere (`credd keys import`), if it still
    /// holds `expectedAccessKeyId`; every other byte of the file stays as it was. Otherwise
    /// writes nothing and throws `sourceKeysChanged` (or `wouldChangeNextSection`).
    public func removeSourceKeys(inSection section: String, holding expectedAccessKeyId: String) throws(CredentialsFileError) {
        let target = try resolveSymlinks(path)
        try rewrite(target, directory: Self.directory(of: target)) {
            (original: [UInt8]?) throws(CredentialsFileError) -> (bytes: [UInt8]?, outcome: Void) in
            guard let original else { throw missingFile(target, section: section) }
            var document = try parse(original, file: target)
            let current = try sourceKeys(in: document, section: section, file: target)
            let header = document.section(named: section)?.headerLineNumber
            guard current.accessKeyId == expectedAccessKeyId else {
                throw CredentialsFileError(
                    reason: .sourceKeysChanged, file: target, line: header, section: section,
                    message:
                        "the section now holds key \(current.accessKeyId), not \(expectedAccessKeyId): it was edited meanwhile; nothing was removed")
            }
            guard !document.removingSectionChangesFollowingLines(named: section) else {
                throw CredentialsFileError(
                    reason: .wouldChangeNextSection, file: target, line: header, section: section,
                    message:
                        "removing this section would make the indented section header after it part of the value before it; unindent that header; nothing was removed"
                )
            }
            document.removeSection(named: section)
            return (document.serializedBytes(), ())
        }
    }

    private func sourceKeys(in document: INIDocument, section name: String, file: String) throws(CredentialsFileError) -> AWSCredentials {
        guard let section = document.section(named: name) else {
            throw CredentialsFileError(
                reason: .sourceKeysMissing, file: file, section: name,
                message: "no such section; credd rotates only keys kept in the credentials file")
        }
        if document.sectionCount(named: name) > 1 {
            throw CredentialsFileError(
                reason: .duplicateSection, file: file, line: section.headerLineNumber, section: name,
                message: "the section appears more than once, which AWS tools reject; merge them by hand")
        }
        if CreddManagedSection.isManaged(section) {
            throw CredentialsFileError(
                reason: .notSourceKeys, file: file, line: section.headerLineNumber, section: name,
                message: "credd writes this section with session credentials; rotate the profile whose long-term keys it was made from")
        }
        if let problem = document.diagnostics(in: section).first {
            throw CredentialsFileError(
                reason: .malformedSection, file: file, line: problem.line, section: name, message: "\(problem.message); fix the section by hand first"
            )
        }
        if let token = section.entry(forKey: "aws_session_token") ?? section.entry(forKey: "aws_security_token") {
            throw CredentialsFileError(
                reason: .notSourceKeys, file: file, line: token.lineNumber, section: name,
                message: "the section holds session credentials (\(token.key)), not an IAM user's long-term keys; only those can be rotated")
        }
        var values: [String] = []
        for key in ["aws_access_key_id", "aws_secret_access_key"] {
            guard let entry = section.entry(forKey: key), !entry.value.isEmpty else {
                throw CredentialsFileError(
                    reason: .sourceKeysMissing, file: file, line: section.headerLineNumber, section: name, message: "the section has no \(key)")
            }
            // A continued value would make the replacement remove lines the user wrote.
            guard entry.continuation.isEmpty else {
                throw CredentialsFileError(
                    reason: .malformedSection, file: file, line: entry.lineNumber, section: name,
                    message: "\(key) continues onto indented lines; put it on one line first")
            }
            values.append(entry.value)
        }
        return AWSCredentials(accessKeyId: values[0], secretAccessKey: Secret(values[1]))
    }

    private func missingFile(_ file: String, section: String) -> CredentialsFileError {
        CredentialsFileError(reason: .sourceKeysMissing, file: file, section: section, message: "the credentials file does not exist")
    }
}
