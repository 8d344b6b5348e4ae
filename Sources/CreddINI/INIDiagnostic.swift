/// A problem found while parsing, with its 1-based position. The document still holds every
/// byte; a diagnostic only says that AWS tools would reject or misread the file.
public struct INIDiagnostic: Sendable, Hashable {
    /// What AWS tools would trip over.
    public enum Problem: Sendable, Hashable {
        case byteOrderMark
        case unterminatedSectionHeader
        case emptySectionName
        case entryOutsideSection
        case missingDelimiter
        case emptyKey
        /// An indented line under an entry with an empty value (a nested block such as `s3 =`)
        /// that has no `=`: botocore rejects the whole file.
        case nestedLineWithoutDelimiter
        case duplicateSection(name: String, firstLine: Int)
        case duplicateKey(key: String, section: String, firstLine: Int)
    }

    /// 1-based.
    public let line: Int
    /// 1-based, in characters.
    public let column: Int
    public let problem: Problem

    public init(line: Int, column: Int, problem: Problem) {
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// One sentence for the user, without position.
    public var message: String {
        switch problem {
        case .byteOrderMark:
            return "the file starts with a UTF-8 byte-order mark, which botocore rejects"
        case .unterminatedSectionHeader:
            return "section header has no closing ']'"
        case .emptySectionName:
            return "section header has an empty name"
        case .entryOutsideSection:
            return "key is outside any [section]"
        case .missingDelimiter:
            return "line is not a [section], a comment, or 'key = value'"
        case .emptyKey:
            return "'=' with no key before it"
        case .nestedLineWithoutDelimiter:
            return "indented line in a nested block has no '='; botocore rejects the whole file"
        case let .duplicateSection(name, firstLine):
            return "section [\(name)] is repeated (first at line \(firstLine)); botocore rejects the whole file"
        case let .duplicateKey(key, section, firstLine):
            return "key '\(key)' is repeated in [\(section)] (first at line \(firstLine)); botocore rejects the whole file"
        }
    }
}
