/// One physical line of an INI file, kept exactly as read so the document can be written back
/// byte-for-byte.
public struct INILine: Sendable, Hashable {
    /// What the line means, as botocore's configparser reads it.
    public enum Kind: Sendable, Hashable {
        case blank
        /// A full-line `#` or `;` comment, possibly indented.
        case comment
        /// `[name]`; `name` is the text between the first `[` and the last `]`, untrimmed
        /// (botocore does not trim it either: `[ profile x ]` is not a profile).
        case sectionHeader(name: String)
        /// `key = value` or `key: value`; `key` is lowercased as botocore does, `value` trimmed.
        /// An inline `# …` stays part of the value, as in botocore.
        case entry(key: String, value: String)
        /// An indented line continuing the previous entry (nested `s3 =` sub-keys).
        case continuation(text: String)
        /// Not parseable; a diagnostic says why. Kept verbatim.
        case invalid
    }

    /// The line's text without its terminator.
    public let text: String
    /// `"\n"`, `"\r\n"`, or `""` for a last line with no final newline.
    public let terminator: String
    public let kind: Kind

    public init(text: String, terminator: String, kind: Kind) {
        self.text = text
        self.terminator = terminator
        self.kind = kind
    }

    /// True for a `#`/`;` comment line whose text, trimmed, equals `comment`.
    public func isComment(_ comment: String) -> Bool {
        kind == .comment && text.trimmingASCIIWhitespace() == comment
    }
}

extension StringProtocol {
    /// Trims spaces and tabs, the only whitespace INI files use inside a line.
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
