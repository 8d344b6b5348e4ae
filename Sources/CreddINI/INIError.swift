/// Why an INI document could not be read or edited.
public enum INIError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidUTF8(line: Int)
    case noSuchSection(String)
    case sectionExists(String)

    public var description: String {
        switch self {
        case let .invalidUTF8(line):
            return "line \(line): not valid UTF-8"
        case let .noSuchSection(name):
            return "no section [\(name)]"
        case let .sectionExists(name):
            return "section [\(name)] already exists"
        }
    }
}
