import CreddINI

/// Appending whole sections to an INI file the user owns, such as credd's config for
/// `credd sso profiles --write`: under the same lock, temp file, fsync and rename as every other
/// write, and losslessly, so every byte already in the file stays as it was.
extension CredentialsFileWriter {
    /// A section to add: its full header name (`profile dev-Developer`) and its entries.
    public struct NewSection: Sendable {
        public let name: String
        public let entries: [(key: String, value: String)]

        public init(name: String, entries: [(key: String, value: String)]) {
            self.name = name
            self.entries = entries
        }
    }

    /// Appends the sections whose name the file does not have yet, in order, and returns their
    /// names; the others are left alone. A missing file is created (mode 0600). Writes nothing
    /// when every section exists.
    @discardableResult
    public func appendMissingSections(_ sections: [NewSection]) throws(CredentialsFileError) -> [String] {
        let target = try resolveSymlinks(path)
        let directory = Self.directory(of: target)
        try ensureDirectory(directory, for: target)
        return try rewrite(target, directory: directory) { original throws(CredentialsFileError) in
            var document = try parse(original ?? [], file: target)
            var added: [String] = []
            for section in sections where document.section(named: section.name) == nil {
                do throws(INIError) {
                    try document.appendSection(section.name, entries: section.entries)
                } catch {
                    throw CredentialsFileError(
                        reason: .unwritableValue, file: target, section: section.name, message: "\(error.description); nothing was written")
                }
                added.append(section.name)
            }
            return (added.isEmpty ? nil : document.serializedBytes(), added)
        }
    }
}
