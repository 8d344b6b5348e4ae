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
        kind == .comment && text.trimmedINIWhitespace() == comment
    }
}

extension Unicode.Scalar {
    /// Whitespace as Python's `str.strip()` sees it, which is what botocore trims from keys and
    /// values: Unicode White_Space (tab, space, NBSP, …) plus the ASCII separators U+001C–U+001F.
    var isINIWhitespace: Bool {
        // ASCII answers without the Unicode property lookup, which dominated parsing.
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) || (0x1C...0x1F).contains(value) }
        return properties.isWhitespace
    }
}

extension StringProtocol {
    /// Trims leading and trailing whitespace the way botocore does (see `isINIWhitespace`).
    func trimmingINIWhitespace() -> String {
        // One copy of the trimmed slice; rebuilding a scalar view scalar by scalar dominated
        // parse time on large files.
        String(trimmedINIWhitespace())
    }

    /// `trimmingINIWhitespace` without the copy.
    func trimmedINIWhitespace() -> Substring {
        let utf8 = Substring(self).utf8
        let trimmed =
            utf8.withContiguousStorageIfAvailable { $0.iniTrimmed(0..<$0.count) }
            ?? {
                // Only a bridged string is not contiguous; a native copy is.
                var copy = String(self)
                return copy.withUTF8 { $0.iniTrimmed(0..<$0.count) }
            }()
        let start = utf8.index(utf8.startIndex, offsetBy: trimmed.lowerBound)
        let end = utf8.index(utf8.startIndex, offsetBy: trimmed.upperBound)
        return Substring(utf8[start..<end])
    }
}

extension String {
    /// `lowercased()`, without a new copy for the usual key that has no capitals.
    func lowercasedForINI() -> String {
        var copy = self
        return copy.withUTF8 { $0.mayNeedLowercasing(0..<$0.count) } ? lowercased() : self
    }
}
