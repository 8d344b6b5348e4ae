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
        /// A line indented deeper than the entry before it, continuing that entry's value
        /// (nested `s3 =` sub-keys), as configparser reads it.
        case continuation(text: String)
        /// Not parseable; a diagnostic says why. Kept verbatim.
        case invalid
    }

    /// The line's text without its terminator.
    public let text: String
    /// `"\n"`, `"\r\n"`, a lone `"\r"` (old Mac files; Python reads it as a line break), or
    /// `""` for a last line with no final newline.
    public let terminator: String
    public let kind: Kind

    public init(text: String, terminator: String, kind: Kind) {
        self.text = text
        self.terminator = terminator
        self.kind = kind
    }

    /// True for a `#`/`;` comment line whose text, trimmed, equals `comment`.
    public func isComment(_ comment: String) -> Bool {
        kind == .comment && text.trimmingINIWhitespace() == comment
    }
}

extension Unicode.Scalar {
    /// Whitespace as Python's `str.strip()` sees it, which is what botocore trims from keys and
    /// values: Unicode White_Space (tab, space, NBSP, …) plus the ASCII separators U+001C–U+001F.
    var isINIWhitespace: Bool {
        properties.isWhitespace || (0x1C...0x1F).contains(value)
    }
}

extension StringProtocol {
    /// Trims leading and trailing whitespace the way botocore does (see `isINIWhitespace`).
    func trimmingINIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.isINIWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isINIWhitespace { scalars = scalars.dropLast() }
        // One copy of the trimmed slice; rebuilding a scalar view scalar by scalar dominated
        // parse time on large files.
        return String(Substring(scalars))
    }
}
