/// A string that must never reach a log, an error message or status output.
///
/// Every textual representation is redacted, so interpolating a `Secret` or a value holding one
/// into a log line cannot leak it; code that really needs the value asks for `revealed`.
public struct Secret: Sendable, Hashable {
    public let revealed: String

    public init(_ value: String) {
        self.revealed = value
    }

    public var isEmpty: Bool { revealed.isEmpty }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Secrets travel as plain JSON strings where a protocol demands them (credential_process
/// output, the control socket); they are still redacted in every description.
extension Secret: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(revealed)
    }
}
