/// Classification: how configparser reads each line, from its bytes and the indentation of the
/// entry open above it.
extension INIDocument {
    /// configparser continues a value only on lines indented deeper than the key's own line;
    /// `nil` when no value is open (after a header or an invalid line).
    static func openIndent(after kind: INILine.Kind, text: String, before: Int?) -> Int? {
        switch kind {
        case .entry: return indentation(of: text)
        case .sectionHeader, .invalid: return nil
        case .blank, .comment, .continuation: return before
        }
    }

    static func isCommentText(_ text: String) -> Bool {
        let trimmed = text.trimmingINIWhitespace()
        return (trimmed.hasPrefix("#") || trimmed.hasPrefix(";")) && !text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
    }

    /// Leading whitespace, counted in characters as configparser does.
    static func indentation(of text: String) -> Int {
        var text = text
        return text.withUTF8 { $0.iniIndentation() }
    }

    /// A line's kind as configparser reads it, given the indentation of the entry open above
    /// it; for an invalid line, also the column and the problem to report.
    static func classify(_ text: String, continuingIndent: Int?) -> (kind: INILine.Kind, problem: (column: Int, problem: INIDiagnostic.Problem)?) {
        var text = text
        return text.withUTF8 { classify(utf8: $0, continuingIndent: continuingIndent) }
    }

    /// `classify` on the line's UTF-8 bytes (see `UnsafeBufferPointer+INI`).
    static func classify(utf8 line: UnsafeBufferPointer<UInt8>, continuingIndent: Int?) -> (
        kind: INILine.Kind, problem: (column: Int, problem: INIDiagnostic.Problem)?
    ) {
        let trimmed = line.iniTrimmed(0..<line.count)
        guard let first = trimmed.first.map({ line[$0] }) else { return (.blank, nil) }
        if first == UInt8(ascii: "#") || first == UInt8(ascii: ";") { return (.comment, nil) }
        let indent = line.iniIndentation()
        if let continuingIndent, indent > continuingIndent { return (.continuation(text: line.string(trimmed)), nil) }
        if first == UInt8(ascii: "[") {
            guard let close = trimmed.last(where: { line[$0] == UInt8(ascii: "]") }) else {
                return (.invalid, (String(decoding: line, as: UTF8.self).count + 1, .unterminatedSectionHeader))
            }
            let name = (trimmed.lowerBound + 1)..<close
            if name.isEmpty { return (.invalid, (indent + 2, .emptySectionName)) }
            return (.sectionHeader(name: line.string(name)), nil)
        }
        guard let delimiter = trimmed.first(where: { line[$0] == UInt8(ascii: "=") || line[$0] == UInt8(ascii: ":") }) else {
            return (.invalid, (indent + 1, .missingDelimiter))
        }
        let keyBytes = line.iniTrimmed(trimmed.lowerBound..<delimiter)
        if keyBytes.isEmpty { return (.invalid, (indent + 1, .emptyKey)) }
        let key = line.mayNeedLowercasing(keyBytes) ? line.string(keyBytes).lowercased() : line.string(keyBytes)
        let value = line.string(line.iniTrimmed((delimiter + 1)..<trimmed.upperBound))
        return (.entry(key: key, value: value), nil)
    }

    /// Calls `body` with each line of `text` from byte offset `start` and its terminator, split
    /// where Python's universal newlines split (`\n`, `\r\n`, a lone `\r`).
    static func forEachLine(in text: String, from start: Int, _ body: (UnsafeBufferPointer<UInt8>, String) -> Void) {
        var text = text
        // Raw UTF-8: `\r` and `\n` are single bytes in UTF-8, so line breaks are found without
        // decoding (`Character` would merge `\r\n`), and each line is copied once.
        text.withUTF8 { bytes in
            let newline = UInt8(ascii: "\n")
            let carriageReturn = UInt8(ascii: "\r")
            var lineStart = start
            while let index = bytes.firstLineBreak(from: lineStart) {
                let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
                if bytes[index] == carriageReturn, index + 1 < bytes.count, bytes[index + 1] == newline {
                    body(line, "\r\n")
                    lineStart = index + 2
                } else {
                    body(line, bytes[index] == newline ? "\n" : "\r")
                    lineStart = index + 1
                }
            }
            if lineStart < bytes.count {
                body(UnsafeBufferPointer(rebasing: bytes[lineStart...]), "")
            }
        }
    }
}

extension INILine.Kind {
    /// Whether a reader's state after this line depends on the line alone (see `openIndent`).
    var fixesReaderState: Bool {
        switch self {
        case .sectionHeader, .entry, .invalid: return true
        case .blank, .comment, .continuation: return false
        }
    }
}
