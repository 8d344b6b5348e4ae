/// A lossless AWS-dialect INI document (`~/.aws/config`, `~/.aws/credentials`, credd's config).
///
/// Parsing keeps every byte: serialising an unedited document gives back the input exactly.
/// Edits touch only the lines they must. Reading follows botocore's configparser, the strictest
/// common reader: keys are case-insensitive, `=` or `:` delimit, inline `#` is part of the value.
public struct INIDocument: Sendable, Hashable {
    /// Every physical line, in order; serialising them gives the file back.
    public private(set) var lines: [INILine]
    /// Whether the input began with a UTF-8 byte-order mark (kept on output).
    public let hasByteOrderMark: Bool
    /// Problems AWS tools would trip over; see `INIDiagnostic`.
    public private(set) var diagnostics: [INIDiagnostic]

    public init() {
        self.lines = []
        self.hasByteOrderMark = false
        self.diagnostics = []
    }

    /// Parses UTF-8 bytes. Fails only if they are not valid UTF-8, since such a file cannot be
    /// edited without changing bytes the user owns.
    public init(bytes: some Collection<UInt8>) throws(INIError) {
        // Validating in one pass is far faster than decoding scalar by scalar; the slow walk
        // runs only to name the line of a bad byte.
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw INIError.invalidUTF8(line: Self.lineOfFirstInvalidByte(bytes))
        }
        self.init(parsing: text)
    }

    private static func lineOfFirstInvalidByte(_ bytes: some Collection<UInt8>) -> Int {
        var lineNumber = 1
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while case let .scalarValue(scalar) = decoder.decode(&iterator) {
            if scalar == "\n" { lineNumber += 1 }
        }
        return lineNumber
    }

    /// Parses text. Never fails: what AWS tools would reject is listed in `diagnostics`.
    public init(parsing text: String) {
        var body = Substring(text)
        let bom = body.unicodeScalars.first == "\u{FEFF}"
        if bom { body = Substring(body.unicodeScalars.dropFirst()) }
        self.hasByteOrderMark = bom
        self.lines = []
        self.diagnostics = bom ? [INIDiagnostic(line: 1, column: 1, problem: .byteOrderMark)] : []

        for (text, terminator) in Self.splitLines(body) {
            lines.append(INILine(text: text, terminator: terminator, kind: .blank))
        }
        reclassify()
    }

    /// The document as bytes would be written: identical to the input when unedited.
    public func serialized() -> String {
        var out = hasByteOrderMark ? "\u{FEFF}" : ""
        for line in lines {
            out += line.text
            out += line.terminator
        }
        return out
    }

    // MARK: - Reading

    /// Every section in file order, duplicates included.
    public var sections: [INISection] {
        var result: [INISection] = []
        var current: (name: String, header: Int)?
        for (index, line) in lines.enumerated() {
            if case let .sectionHeader(name) = line.kind {
                if let open = current {
                    result.append(INISection(document: self, name: open.name, headerIndex: open.header, endIndex: index))
                }
                current = (name, index)
            }
        }
        if let open = current {
            result.append(INISection(document: self, name: open.name, headerIndex: open.header, endIndex: lines.count))
        }
        return result
    }

    /// The first section with exactly this name (`"default"`, `"profile dev"`, …).
    public func section(named name: String) -> INISection? {
        guard let header = lines.firstIndex(where: { $0.kind == .sectionHeader(name: name) }) else { return nil }
        let end = lines[(header + 1)...].firstIndex { line in
            if case .sectionHeader = line.kind { return true }
            return false
        } ?? lines.count
        return INISection(document: self, name: name, headerIndex: header, endIndex: end)
    }

    /// How many sections are named `name`; more than one makes botocore reject the file.
    public func sectionCount(named name: String) -> Int {
        lines.reduce(0) { $0 + ($1.kind == .sectionHeader(name: name) ? 1 : 0) }
    }

    /// The value of `key` (case-insensitive) in the first section named `section`.
    public func value(forKey key: String, inSection section: String) -> String? {
        self.section(named: section)?.value(forKey: key)
    }

    // MARK: - Editing

    /// Sets `key = value` in `section`, replacing the first occurrence of the key (and its
    /// continuation lines) in place, or inserting it after the section's last entry.
    /// Throws if the section does not exist.
    public mutating func setValue(_ value: String, forKey key: String, inSection sectionName: String) throws(INIError) {
        try setValues([(key: key, value: value)], inSection: sectionName)
    }

    /// `setValue` for several keys of one section at once, re-reading the document once rather
    /// than per key. Validates every entry before changing anything. Returns whether the text
    /// changed.
    @discardableResult
    public mutating func setValues(_ entries: [(key: String, value: String)], inSection sectionName: String) throws(INIError) -> Bool {
        for entry in entries { try Self.validateEntry(key: entry.key, value: entry.value) }
        guard section(named: sectionName) != nil else { throw INIError.noSuchSection(sectionName) }
        var changed = false
        for (key, value) in entries {
            // Each edit gives its line the kind a fresh parse would, and (through indentation)
            // leaves every other line's kind alone, so the section view stays exact between
            // edits; only the diagnostics wait for the final pass.
            guard let section = section(named: sectionName) else { break }
            let newText = "\(key) = \(value)"
            let kind = INILine.Kind.entry(key: key.lowercased(), value: value)
            if let entry = section.entry(forKey: key) {
                if entry.value == value && entry.continuationIndices.isEmpty { continue }
                let old = lines[entry.lineIndex]
                // The old indentation keeps the lines below reading as they did (configparser
                // decides continuations by comparing indentation).
                lines[entry.lineIndex] = INILine(text: Self.leadingWhitespace(of: old.text) + newText, terminator: old.terminator, kind: kind)
                removeLines(at: entry.continuationIndices)
            } else {
                let index = section.insertionIndex
                insertLine(indentation(forInsertionAt: index, sectionHeader: section.headerIndex) + newText, kind: kind, at: index)
            }
            changed = true
        }
        if changed { reclassify() }
        return changed
    }

    /// Removes `key` and its continuation lines from `section`; returns whether it was there.
    @discardableResult
    public mutating func removeValue(forKey key: String, inSection sectionName: String) -> Bool {
        guard let entry = section(named: sectionName)?.entry(forKey: key) else { return false }
        removeLines(at: [entry.lineIndex] + entry.continuationIndices)
        reclassify()
        return true
    }

    /// Appends a new section at the end of the document, separated from what precedes it by one
    /// blank line. `comments` become full-line comments right after the header.
    public mutating func appendSection(_ name: String, comments: [String] = [], entries: [(key: String, value: String)]) throws(INIError) {
        try Self.validateSectionName(name)
        for comment in comments where !Self.isCommentText(comment) { throw INIError.invalidComment }
        for entry in entries { try Self.validateEntry(key: entry.key, value: entry.value) }
        guard section(named: name) == nil else { throw INIError.sectionExists(name) }
        if let last = lines.last, last.kind != .blank {
            insertLine("", at: lines.count)
        }
        insertLine("[\(name)]", at: lines.count)
        for comment in comments { insertLine(comment, at: lines.count) }
        for entry in entries { insertLine("\(entry.key) = \(entry.value)", at: lines.count) }
        reclassify()
    }

    /// Removes the first section named `name`: its header, entries and the comments among them,
    /// plus the blank lines that separated it from the next section. Comments after its last
    /// entry are kept, since they usually introduce the next section.
    @discardableResult
    public mutating func removeSection(named name: String) -> Bool {
        guard let section = section(named: name) else { return false }
        var end = section.contentEndIndex
        while end < section.endIndex, lines[end].kind == .blank { end += 1 }
        // Keep the file's own separation: drop the blank line before the section instead when
        // the section was last.
        var start = section.headerIndex
        if end == lines.count, start > 0, lines[start - 1].kind == .blank { start -= 1 }
        removeLines(at: Array(start..<end))
        reclassify()
        return true
    }

    // MARK: - Internals

    /// The line ending for a line inserted at `index`: the one of the line before it, so an edit
    /// inside a CRLF region stays CRLF even in a file with mixed endings.
    private func terminator(forInsertionAt index: Int) -> String {
        let before = lines[..<min(index, lines.count)].last { !$0.terminator.isEmpty }
        return before?.terminator ?? lines.first { !$0.terminator.isEmpty }?.terminator ?? "\n"
    }

    private mutating func insertLine(_ text: String, kind: INILine.Kind = .blank, at index: Int) {
        let terminator = terminator(forInsertionAt: index)
        if index == lines.count, let last = lines.indices.last, lines[last].terminator.isEmpty {
            // The file had no final newline: the old last line needs one now, and the new last
            // line keeps the file's choice of ending without one.
            let old = lines[last]
            lines[last] = INILine(text: old.text, terminator: terminator, kind: old.kind)
            lines.append(INILine(text: text, terminator: "", kind: kind))
            return
        }
        lines.insert(INILine(text: text, terminator: terminator, kind: kind), at: index)
    }

    /// Indentation for a new entry at `index` that neither continues the entry above it nor
    /// turns the next line into a continuation: the open entry's own indentation, else that of
    /// the next header or entry.
    private func indentation(forInsertionAt index: Int, sectionHeader: Int) -> String {
        for line in lines[sectionHeader..<index].reversed() {
            switch line.kind {
            case .entry:
                return Self.leadingWhitespace(of: line.text)
            case .sectionHeader, .invalid:
                let next = lines[index...].first { line in
                    switch line.kind {
                    case .blank, .comment: return false
                    case .sectionHeader, .entry, .continuation, .invalid: return true
                    }
                }
                return next.map { Self.leadingWhitespace(of: $0.text) } ?? ""
            case .blank, .comment, .continuation:
                continue
            }
        }
        return ""
    }

    private static func leadingWhitespace(of text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix { $0.isINIWhitespace }))
    }

    /// Removes lines while keeping whether the file ends with a newline.
    private mutating func removeLines(at indices: [Int]) {
        let endedWithoutNewline = lines.last?.terminator.isEmpty ?? false
        for index in Set(indices).sorted(by: >) {
            lines.remove(at: index)
            // A lone CR now followed by an empty LF line would read back as one CRLF: merge them
            // as a parse of the output does, so the document stays what its text says.
            if index > 0, index < lines.count, lines[index - 1].terminator == "\r", lines[index].text.isEmpty, lines[index].terminator == "\n" {
                lines[index - 1] = INILine(text: lines[index - 1].text, terminator: "\r\n", kind: lines[index - 1].kind)
                lines.remove(at: index)
            }
        }
        if endedWithoutNewline, let last = lines.indices.last {
            if lines[last].text.isEmpty {
                // An empty line without an ending is no line at all: a parse of the output would not have it.
                lines.removeLast()
            } else {
                lines[last] = INILine(text: lines[last].text, terminator: "", kind: lines[last].kind)
            }
        }
    }

    /// Rejects what would not read back as the same single entry: line breaks, a key that
    /// would parse as something else, or whitespace the reader would trim. Never echoes the
    /// value, which may be a secret.
    private static func validateEntry(key: String, value: String) throws(INIError) {
        let keyScalars = key.unicodeScalars
        guard let first = keyScalars.first, let last = keyScalars.last,
              !first.isINIWhitespace, !last.isINIWhitespace,
              !["[", "#", ";"].contains(first),
              !keyScalars.contains(where: { $0 == "=" || $0 == ":" || $0 == "\n" || $0 == "\r" })
        else { throw INIError.invalidKey(key) }
        let valueScalars = value.unicodeScalars
        if valueScalars.contains(where: { $0 == "\n" || $0 == "\r" })
            || valueScalars.first?.isINIWhitespace == true || valueScalars.last?.isINIWhitespace == true {
            throw INIError.invalidValue(key: key)
        }
    }

    private static func validateSectionName(_ name: String) throws(INIError) {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, !first.isINIWhitespace, !last.isINIWhitespace,
              !scalars.contains(where: { $0 == "]" || $0 == "\n" || $0 == "\r" })
        else { throw INIError.invalidSectionName(name) }
    }

    private static func isCommentText(_ text: String) -> Bool {
        let trimmed = text.trimmingINIWhitespace()
        return (trimmed.hasPrefix("#") || trimmed.hasPrefix(";")) && !text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
    }

    /// Recomputes every line's kind and the diagnostics, exactly as a fresh parse would.
    private mutating func reclassify() {
        var found: [INIDiagnostic] = hasByteOrderMark ? [INIDiagnostic(line: 1, column: 1, problem: .byteOrderMark)] : []
        var sectionFirstLine: [String: Int] = [:]
        var keyFirstLine: [String: Int] = [:]
        var currentSection: String?
        // configparser continues a value only on lines indented deeper than the key's own line;
        // `nil` when no value is open (after a header or an invalid line).
        var openEntry: (indent: Int, valueIsEmpty: Bool)?

        for index in lines.indices {
            let line = lines[index]
            let number = index + 1
            let kind = Self.classify(line.text, continuingIndent: openEntry?.indent, line: number, diagnostics: &found)
            lines[index] = INILine(text: line.text, terminator: line.terminator, kind: kind)
            switch kind {
            case let .sectionHeader(name):
                if let first = sectionFirstLine[name] {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .duplicateSection(name: name, firstLine: first)))
                } else {
                    sectionFirstLine[name] = number
                }
                currentSection = name
                keyFirstLine = [:]
                openEntry = nil
            case let .entry(key, value):
                openEntry = (Self.indentation(of: line.text), value.isEmpty)
                guard let section = currentSection else {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .entryOutsideSection))
                    continue
                }
                if let first = keyFirstLine[key] {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .duplicateKey(key: key, section: section, firstLine: first)))
                } else {
                    keyFirstLine[key] = number
                }
            case let .continuation(text):
                // botocore parses an entry with an empty first line as nested `key = value`
                // pairs and rejects the whole file when one has no `=`.
                if openEntry?.valueIsEmpty == true, !text.contains("=") {
                    found.append(INIDiagnostic(line: number, column: Self.indentation(of: line.text) + 1, problem: .nestedLineWithoutDelimiter))
                }
            case .invalid:
                openEntry = nil
            case .blank, .comment:
                break
            }
        }
        diagnostics = found
    }

    /// Leading whitespace, counted in characters as configparser does.
    private static func indentation(of text: String) -> Int {
        leadingWhitespace(of: text).unicodeScalars.count
    }

    private static func classify(_ text: String, continuingIndent: Int?, line: Int, diagnostics: inout [INIDiagnostic]) -> INILine.Kind {
        let trimmed = text.trimmingINIWhitespace()
        if trimmed.isEmpty { return .blank }
        if trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { return .comment }
        let indent = indentation(of: text)
        if let continuingIndent, indent > continuingIndent { return .continuation(text: trimmed) }
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.lastIndex(of: "]") else {
                diagnostics.append(INIDiagnostic(line: line, column: text.count + 1, problem: .unterminatedSectionHeader))
                return .invalid
            }
            let name = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            if name.isEmpty {
                diagnostics.append(INIDiagnostic(line: line, column: indent + 2, problem: .emptySectionName))
                return .invalid
            }
            return .sectionHeader(name: name)
        }
        guard let delimiter = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
            diagnostics.append(INIDiagnostic(line: line, column: indent + 1, problem: .missingDelimiter))
            return .invalid
        }
        let key = trimmed[..<delimiter].trimmingINIWhitespace().lowercased()
        if key.isEmpty {
            diagnostics.append(INIDiagnostic(line: line, column: indent + 1, problem: .emptyKey))
            return .invalid
        }
        let value = trimmed[trimmed.index(after: delimiter)...].trimmingINIWhitespace()
        return .entry(key: key, value: value)
    }

    /// Splits where Python's universal newlines do (`\n`, `\r\n`, a lone `\r`), keeping each
    /// line's terminator. Works on unicode scalars because `Character` merges `\r\n`.
    private static func splitLines(_ text: Substring) -> [(String, String)] {
        // Slices of the UTF-8 view: `\r` and `\n` are single bytes in UTF-8, so line breaks are
        // found without decoding, and each line is copied once.
        var result: [(String, String)] = []
        let utf8 = text.utf8
        var lineStart = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
                index = utf8.index(after: index)
                continue
            }
            let line = String(Substring(utf8[lineStart..<index]))
            var next = utf8.index(after: index)
            if byte == UInt8(ascii: "\r"), next != utf8.endIndex, utf8[next] == UInt8(ascii: "\n") {
                next = utf8.index(after: next)
                result.append((line, "\r\n"))
            } else {
                result.append((line, byte == UInt8(ascii: "\n") ? "\n" : "\r"))
            }
            lineStart = next
            index = next
        }
        if lineStart != utf8.endIndex {
            result.append((String(Substring(utf8[lineStart..<utf8.endIndex])), ""))
        }
        return result
    }
}
