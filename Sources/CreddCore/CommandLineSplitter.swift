/// Splits a command line into arguments the way Python's `shlex.split` (POSIX mode) does, which
/// is how the AWS CLI splits `credential_process`: whitespace separates; single quotes keep
/// everything literal; double quotes allow `\"` and `\\`; outside quotes a backslash escapes
/// the next character. No variables, globs or comments.
public enum CommandLineSplitter {
    public enum Failure: Error, Sendable, Hashable {
        case unterminatedQuote(Character)
        case trailingBackslash
    }

    public static func split(_ commandLine: String) throws(Failure) -> [String] {
        var arguments: [String] = []
        var current = ""
        var inArgument = false
        var iterator = commandLine.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n", "\r":
                if inArgument {
                    arguments.append(current)
                    current = ""
                    inArgument = false
                }
            case "'":
                inArgument = true
                while true {
                    guard let next = iterator.next() else { throw .unterminatedQuote("'") }
                    if next == "'" { break }
                    current.append(next)
                }
            case "\"":
                inArgument = true
                while true {
                    guard let next = iterator.next() else { throw .unterminatedQuote("\"") }
                    if next == "\"" { break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { throw .unterminatedQuote("\"") }
                        if escaped != "\"" && escaped != "\\" { current.append("\\") }
                        current.append(escaped)
                    } else {
                        current.append(next)
                    }
                }
            case "\\":
                guard let escaped = iterator.next() else { throw .trailingBackslash }
                inArgument = true
                current.append(escaped)
            default:
                inArgument = true
                current.append(character)
            }
        }
        if inArgument { arguments.append(current) }
        return arguments
    }
}
