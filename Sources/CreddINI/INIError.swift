/// Why an INI document could not be read or edited.
public enum INIError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidUTF8(line: Int)
    case noSuchSection(String)
    case sectionExists(String)
    /// A key that would not read back as itself (empty, surrounding whitespace, a delimiter,
    /// a line break, or a leading `[`, `#`, `;`).
    case invalidKey(String)
    /// A value with a line break or surrounding whitespace; the value itself is never kept,
    /// since it may be a secret.
    case invalidValue(key: String)
    /// A section name with `]`, a line break or surrounding whitespace.
    case invalidSectionName(String)
    /// A comment to insert that is not a single `#` or `;` line.
    case invalidComment

    public var description: String {
        switch self {
        case let .invalidUTF8(line):
            return "line \(line): not valid UTF-8"
        case let .noSuchSection(name):
            return "no section [\(name)]"
        case let .sectionExists(name):
            return "section [\(name)] already exists"
        case let .invalidKey(key):
            return "'\(key)' cannot be written as an INI key"
        case let .invalidValue(key):
            return "the value for '\(key)' has a line break or surrounding whitespace and cannot be written"
        case let .invalidSectionName(name):
            return "'\(name)' cannot be written as a section name"
        case .invalidComment:
            return "a comment must be a single line starting with '#' or ';'"
        }
    }
}
