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
    /// The indices of the header lines of each section name, ascending. Every edit keeps it in
    /// step with `lines`, so finding a section costs no scan of the file: credd edits up to
    /// thousands of sections in one rewrite. Derived from `lines`, so equality ignores it.
    private var headerIndices: [String: [Int]]

    public init() {
        self.lines = []
        self.hasByteOrderMark = false
        self.headerIndices = [:]
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
        let bom = text.unicodeScalars.first == "\u{FEFF}"
        self.hasByteOrderMark = bom
        var lines: [INILine] = []
        var headerIndices: [String: [Int]] = [:]
        var openIndent: Int?
        Self.forEachLine(in: text, from: bom ? "\u{FEFF}".utf8.count : 0) { bytes, terminator in
            let text = String(decoding: bytes, as: UTF8.self)
            let kind = Self.classify(utf8: bytes, continuingIndent: openIndent).kind
            openIndent = Self.openIndent(after: kind, text: text, before: openIndent)
            if case let .sectionHeader(name) = kind { headerIndices[name, default: []].append(lines.count) }
            lines.append(INILine(text: text, terminator: terminator, kind: kind))
        }
        self.lines = lines
        self.headerIndices = headerIndices
    }

    /// The document as text would be written: identical to the input when unedited.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// `serialized()` as the UTF-8 bytes a file holds.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        let byteOrderMark = "\u{FEFF}".utf8
        out.reserveCapacity(lines.reduce(byteOrderMark.count) { $0 + $1.text.utf8.count + $1.terminator.utf8.count })
        if hasByteOrderMark { out += byteOrderMark }
        for line in lines {
            var text = line.text
            var terminator = line.terminator
            // A native string's bytes, appended as one copy rather than through its view.
            text.withUTF8 { out.append(contentsOf: $0) }
            terminator.withUTF8 { out.append(contentsOf: $0) }
        }
        return out
    }

    public static func == (lhs: INIDocument, rhs: INIDocument) -> Bool {
        lhs.hasByteOrderMark == rhs.hasByteOrderMark && lhs.lines == rhs.lines
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hasByteOrderMark)
        hasher.combine(lines)
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
        guard let header = headerIndices[name]?.first else { return nil }
        let end = lines[(header + 1)...].firstIndex { line in
            if case .sectionHeader = line.kind { return true }
            return false
        } ?? lines.count
        return INISection(document: self, name: name, headerIndex: header, endIndex: end)
    }

    /// How many sections are named `name`; more than one makes botocore reject the file.
    public func sectionCount(named name: String) -> Int {
        headerIndices[name]?.count ?? 0
    }

    /// The value of `key` (case-insensitive) in the first section named `section`.
    public func value(forKey key: String, inSection section: String) -> String? {
        self.section(named: section)?.value(forKey: key)
    }

    /// Problems AWS tools would trip over; see `INIDiagnostic`. Derived from the lines on each
    /// access (one pass over the file), so that edits need not keep it current.
    public var diagnostics: [INIDiagnostic] {
        let byteOrderMark = hasByteOrderMark ? [INIDiagnostic(line: 1, column: 1, problem: .byteOrderMark)] : []
        return byteOrderMark + diagnostics(inLines: lines.indices)
    }

    /// The diagnostics on the lines of `section` (a section of this document), exactly those of
    /// `diagnostics` that fall on them, found without a pass over the whole file.
    public func diagnostics(in section: INISection) -> [INIDiagnostic] {
        diagnostics(inLines: section.headerIndex..<section.endIndex)
    }

    /// `range` starts at the first line or at a section header, where a reader's state is known.
    private func diagnostics(inLines range: Range<Int>) -> [INIDiagnostic] {
        var found: [INIDiagnostic] = []
        var currentSection: String?
        var keyFirstLine = KeyFirstLines()
        // Whether the open entry's first line has an empty value (a nested block).
        var openValueIsEmpty = false
        for index in range {
            let line = lines[index]
            let number = index + 1
            switch line.kind {
            case let .sectionHeader(name):
                if let first = headerIndices[name]?.first, first != index {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .duplicateSection(name: name, firstLine: first + 1)))
                }
                currentSection = name
                keyFirstLine.removeAll()
                openValueIsEmpty = false
            case let .entry(key, value):
                openValueIsEmpty = value.isEmpty
                guard let section = currentSection else {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .entryOutsideSection))
                    continue
                }
                if let first = keyFirstLine.firstLine(of: key, recording: number) {
                    found.append(INIDiagnostic(line: number, column: 1, problem: .duplicateKey(key: key, section: section, firstLine: first)))
                }
            case let .continuation(text):
                // botocore parses an entry with an empty first line as nested `key = value`
                // pairs and rejects the whole file when one has no `=`.
                if openValueIsEmpty, !text.contains("=") {
                    found.append(INIDiagnostic(line: number, column: Self.indentation(of: line.text) + 1, problem: .nestedLineWithoutDelimiter))
                }
            case .invalid:
                openValueIsEmpty = false
                // An invalid line is no continuation, so the open entry does not change why.
                if let problem = Self.classify(line.text, continuingIndent: nil).problem {
                    found.append(INIDiagnostic(line: number, column: problem.column, problem: problem.problem))
                }
            case .blank, .comment:
                break
            }
        }
        return found
    }

    // MARK: - Editing
    //
    // Every edit goes through `replaceLines`, which re-derives the kinds of the lines it touched
    // and of the few after them whose reading can change, and moves the header index: an edit
    // costs the lines it touches, not a pass over the file.

    /// Sets `key = value` in `section`, replacing the first occurrence of the key (and its
    /// continuation lines) in place, or inserting it after the section's last entry.
    /// Throws if the section does not exist.
    public mutating func setValue(_ value: String, forKey key: String, inSection sectionName: String) throws(INIError) {
        try setValues([(key: key, value: value)], inSection: sectionName)
    }

    /// `setValue` for several keys of one section at once. Validates every entry before
    /// changing anything, so a throw leaves the document as it was. Returns whether the text
    /// changed.
    @discardableResult
    public mutating func setValues(_ entries: [(key: String, value: String)], inSection sectionName: String) throws(INIError) -> Bool {
        for entry in entries { try Self.validateEntry(key: entry.key, value: entry.value) }
        guard var layout = sectionLayout(named: sectionName) else { throw INIError.noSuchSection(sectionName) }
        var changed = false
        for (key, value) in entries {
            let newText = Self.entryText(key: key, value: value)
            let wanted = key.lowercasedForINI()
            if let position = layout.entries.firstIndex(where: { $0.key == wanted }) {
                let entry = layout.entries[position]
                if entry.value == value && entry.continuationIndices.isEmpty { continue }
                let old = lines[entry.lineIndex]
                // The old indentation keeps the lines below reading as they did (configparser
                // decides continuations by comparing indentation).
                let indentation = Self.leadingWhitespace(of: old.text)
                // The kind is known: the validated key and value read back as exactly this.
                let line = INILine(text: indentation.isEmpty ? newText : indentation + newText, terminator: old.terminator, kind: .entry(key: wanted, value: value))
                if entry.continuationIndices.isEmpty {
                    // An entry stays an entry at the same indentation with the same line ending,
                    // so no other line reads differently and no header moves: the common
                    // renewal edit needs no re-derivation, and the layout only the new value.
                    lines[entry.lineIndex] = line
                    layout.entries[position] = INISection.Entry(key: wanted, value: value, continuation: [], lineIndex: entry.lineIndex, continuationIndices: [])
                } else {
                    replaceLines(entry.lineIndex..<(entry.lineIndex + 1), with: [line], classified: true)
                    removeLines(at: entry.continuationIndices)
                    layout = sectionLayout(named: sectionName) ?? layout
                }
            } else {
                insertLines([indentation(forInsertionAt: layout.insertionIndex, sectionHeader: layout.headerIndex) + newText], at: layout.insertionIndex)
                layout = sectionLayout(named: sectionName) ?? layout
            }
            changed = true
        }
        return changed
    }

    /// Removes `key` and its continuation lines from `section`; returns whether it was there.
    @discardableResult
    public mutating func removeValue(forKey key: String, inSection sectionName: String) -> Bool {
        let wanted = key.lowercasedForINI()
        guard let entry = sectionLayout(named: sectionName)?.entries.first(where: { $0.key == wanted }) else { return false }
        removeLines(at: [entry.lineIndex] + entry.continuationIndices)
        return true
    }

    /// Appends a new section at the end of the document, separated from what precedes it by one
    /// blank line. `comments` become full-line comments right after the header.
    public mutating func appendSection(_ name: String, comments: [String] = [], entries: [(key: String, value: String)]) throws(INIError) {
        try Self.validateSectionName(name)
        for comment in comments where !Self.isCommentText(comment) { throw INIError.invalidComment }
        for entry in entries { try Self.validateEntry(key: entry.key, value: entry.value) }
        guard headerIndices[name] == nil else { throw INIError.sectionExists(name) }
        var texts: [String] = []
        if let last = lines.last, last.kind != .blank { texts.append("") }
        texts.append("[\(name)]")
        texts += comments
        texts += entries.map { Self.entryText(key: $0.key, value: $0.value) }
        insertLines(texts, at: lines.count)
    }

    /// Removes the first section named `name`: its header, entries and the comments among them,
    /// plus the blank lines that separated it from the next section. Comments after its last
    /// entry are kept, since they usually introduce the next section.
    @discardableResult
    public mutating func removeSection(named name: String) -> Bool {
        guard let range = removalRange(ofSectionNamed: name) else { return false }
        removeLines(at: Array(range))
        return true
    }

    /// Whether removing the first section named `name` would change how the lines after it
    /// read. Only a header ends a value in configparser's reading: an indented line after an
    /// entry continues it, blank lines and comments notwithstanding. So a whitespace-indented
    /// header right after the section would become part of the value before the section.
    public func removingSectionChangesFollowingLines(named name: String) -> Bool {
        guard let range = removalRange(ofSectionNamed: name), range.upperBound < lines.count else { return false }
        var trial = self
        trial.removeLines(at: Array(range))
        let following = lines[range.upperBound...]
        return !trial.lines.suffix(following.count).map(\.kind).elementsEqual(following.map(\.kind))
    }

    // MARK: - Internals

    /// The entries of the first section named `name`, where a new entry would go, and its
    /// header. Plain values, so that no view of `lines` outlives the lookup: one alive while
    /// `lines` is edited would make the edit copy the whole array.
    private func sectionLayout(named name: String) -> (entries: [INISection.Entry], insertionIndex: Int, headerIndex: Int)? {
        guard let section = section(named: name) else { return nil }
        return (section.entries, section.insertionIndex, section.headerIndex)
    }

    private func removalRange(ofSectionNamed name: String) -> Range<Int>? {
        guard let section = section(named: name) else { return nil }
        var end = section.contentEndIndex
        while end < section.endIndex, lines[end].kind == .blank { end += 1 }
        // Keep the file's own separation: drop the blank line before the section instead when
        // the section was last.
        var start = section.headerIndex
        if end == lines.count, start > 0, lines[start - 1].kind == .blank { start -= 1 }
        return start..<end
    }

    /// The line ending for a line inserted at `index`: the one of the line before it, so an edit
    /// inside a CRLF region stays CRLF even in a file with mixed endings.
    private func terminator(forInsertionAt index: Int) -> String {
        let before = lines[..<min(index, lines.count)].last { !$0.terminator.isEmpty }
        return before?.terminator ?? lines.first { !$0.terminator.isEmpty }?.terminator ?? "\n"
    }

    private mutating func insertLines(_ texts: [String], at index: Int) {
        let terminator = terminator(forInsertionAt: index)
        var newLines = texts.map { (text: $0, terminator: terminator) }
        if index == lines.count, let last = lines.indices.last, lines[last].terminator.isEmpty, let newLast = newLines.indices.last {
            // The file had no final newline: the old last line needs one now, and the new last
            // line keeps the file's choice of ending without one.
            setTerminator(terminator, ofLineAt: last)
            newLines[newLast].terminator = ""
        }
        replaceLines(index..<index, with: newLines.map { INILine(text: $0.text, terminator: $0.terminator, kind: .blank) }, classified: false)
    }

    /// Removes lines while keeping whether the file ends with a newline.
    private mutating func removeLines(at indices: [Int]) {
        let endedWithoutNewline = lines.last?.terminator.isEmpty ?? false
        // Runs of adjacent lines go in one splice, the last run first so earlier indices hold.
        var runs: [Range<Int>] = []
        for index in Set(indices).sorted() {
            if let last = runs.last, last.upperBound == index {
                runs[runs.count - 1] = last.lowerBound..<(index + 1)
            } else {
                runs.append(index..<(index + 1))
            }
        }
        for run in runs.reversed() { replaceLines(run, with: [], classified: true) }
        if endedWithoutNewline, let last = lines.indices.last {
            if lines[last].text.isEmpty {
                // An empty line without an ending is no line at all: a parse of the output would
                // not have it (found by fuzzing).
                replaceLines(last..<(last + 1), with: [], classified: true)
            } else {
                setTerminator("", ofLineAt: last)
            }
        }
    }

    /// A terminator never changes how a line reads, so the kind stays.
    private mutating func setTerminator(_ terminator: String, ofLineAt index: Int) {
        let line = lines[index]
        lines[index] = INILine(text: line.text, terminator: terminator, kind: line.kind)
    }

    /// Replaces the lines in `range` with `newLines`, then gives every line the kind a fresh
    /// parse would and moves the header index to match. `classified`: the new lines already
    /// carry those kinds; otherwise their kinds are placeholders to be derived.
    private mutating func replaceLines(_ range: Range<Int>, with newLines: [INILine], classified: Bool) {
        let oldCount = lines.count
        let stateBefore = openIndent(before: range.lowerBound)
        let stateAfterOldLines = lines[range].reduce(stateBefore) { Self.openIndent(after: $1.kind, text: $1.text, before: $0) }
        for index in range {
            if case let .sectionHeader(name) = lines[index].kind { removeHeader(name, at: index) }
        }
        if range.count == newLines.count {
            // In place: far cheaper than the general splice for the usual one-line replacement.
            for (index, line) in zip(range, newLines) { lines[index] = line }
        } else {
            lines.replaceSubrange(range, with: newLines)
        }
        let shift = newLines.count - range.count
        if shift != 0, range.upperBound < oldCount {
            shiftHeaderIndices(from: range.upperBound, by: shift)
        }
        let editedEnd = range.lowerBound + newLines.count
        var state = stateBefore
        var start = range.lowerBound
        if classified {
            for (index, line) in zip(range.lowerBound..<editedEnd, newLines) {
                if case let .sectionHeader(name) = line.kind { addHeader(name, at: index) }
                state = Self.openIndent(after: line.kind, text: line.text, before: state)
            }
            start = editedEnd
        }
        reclassify(from: start, editedEnd: editedEnd, stateBefore: state, stateAfterOldLines: stateAfterOldLines)
        joinSplitLineBreak(before: range.lowerBound + newLines.count)
        joinSplitLineBreak(before: range.lowerBound)
    }

    /// A line ending in a lone `\r` followed by an empty line ending in `\n` serialises as one
    /// `\r\n`, which reads back as one line break: make the lines say so too (same bytes), so
    /// that the document stays what a fresh parse of its text gives.
    private mutating func joinSplitLineBreak(before index: Int) {
        guard index > 0, index < lines.count, lines[index - 1].terminator == "\r",
              lines[index].text.isEmpty, lines[index].terminator == "\n" else { return }
        setTerminator("\r\n", ofLineAt: index - 1)
        replaceLines(index..<(index + 1), with: [], classified: true)
    }

    /// Re-derives kinds from `start`, where `lines[start..<editedEnd]` are new. A line's kind
    /// depends only on its text and on the indentation of the entry open above it. So the pass
    /// stops past the edit as soon as that state is what the old lines left (usually at once),
    /// or a line keeps a kind that fixes the state by itself (a header, entry or invalid line):
    /// every later line reads as before.
    private mutating func reclassify(from start: Int, editedEnd: Int, stateBefore: Int?, stateAfterOldLines: Int?) {
        var openIndent = stateBefore
        var index = start
        while index < lines.count {
            if index == editedEnd, openIndent == stateAfterOldLines { return }
            let line = lines[index]
            let kind = Self.classify(line.text, continuingIndent: openIndent).kind
            if kind != line.kind {
                if case let .sectionHeader(name) = line.kind { removeHeader(name, at: index) }
                if case let .sectionHeader(name) = kind { addHeader(name, at: index) }
                lines[index] = INILine(text: line.text, terminator: line.terminator, kind: kind)
            } else if index >= editedEnd, kind.fixesReaderState {
                return
            }
            openIndent = Self.openIndent(after: kind, text: line.text, before: openIndent)
            index += 1
        }
    }

    /// The indentation of the entry open just above `index`, as a reader arrives there.
    private func openIndent(before index: Int) -> Int? {
        var current = index
        while current > 0 {
            current -= 1
            let line = lines[current]
            switch line.kind {
            case .entry: return Self.indentation(of: line.text)
            case .sectionHeader, .invalid: return nil
            case .blank, .comment, .continuation: continue
            }
        }
        return nil
    }

    /// configparser continues a value only on lines indented deeper than the key's own line;
    /// `nil` when no value is open (after a header or an invalid line).
    private static func openIndent(after kind: INILine.Kind, text: String, before: Int?) -> Int? {
        switch kind {
        case .entry: return indentation(of: text)
        case .sectionHeader, .invalid: return nil
        case .blank, .comment, .continuation: return before
        }
    }

    private mutating func addHeader(_ name: String, at index: Int) {
        let position = headerIndices[name]?.firstIndex { $0 > index } ?? headerIndices[name]?.count ?? 0
        headerIndices[name, default: []].insert(index, at: position)
    }

    private mutating func removeHeader(_ name: String, at index: Int) {
        headerIndices[name]?.removeAll { $0 == index }
        if headerIndices[name]?.isEmpty == true { headerIndices[name] = nil }
    }

    /// Moves every header at or after `start` by `shift` lines, in place.
    private mutating func shiftHeaderIndices(from start: Int, by shift: Int) {
        for position in headerIndices.indices {
            for slot in headerIndices.values[position].indices where headerIndices.values[position][slot] >= start {
                headerIndices.values[position][slot] += shift
            }
        }
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

    /// `key = value`, built in one allocation (values are mostly ~400-byte session tokens).
    private static func entryText(key: String, value: String) -> String {
        var key = key
        var value = value
        let separator: StaticString = " = "
        let count = key.utf8.count + separator.utf8CodeUnitCount + value.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            var end = key.withUTF8 { buffer.initialize(fromContentsOf: $0) }
            end = separator.withUTF8Buffer { buffer[end...].initialize(fromContentsOf: $0) }
            return value.withUTF8 { buffer[end...].initialize(fromContentsOf: $0) }
        }
    }

    private static func leadingWhitespace(of text: String) -> String {
        String(Substring(text.unicodeScalars.prefix { $0.isINIWhitespace }))
    }

    /// Rejects what would not read back as the same single entry: line breaks, a key that
    /// would parse as something else, or whitespace the reader would trim. Never echoes the
    /// value, which may be a secret.
    private static func validateEntry(key: String, value: String) throws(INIError) {
        // On the bytes: every character that matters here is ASCII (see
        // `UnsafeBufferPointer+INI`), and this runs on every value written.
        var keyBytes = key
        let keyIsValid = keyBytes.withUTF8 { bytes in
            guard let first = bytes.first, bytes.iniTrimmed(0..<bytes.count) == 0..<bytes.count,
                  first != UInt8(ascii: "["), first != UInt8(ascii: "#"), first != UInt8(ascii: ";")
            else { return false }
            return !bytes.contains { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
        }
        guard keyIsValid else { throw INIError.invalidKey(key) }
        var valueBytes = value
        guard valueBytes.withUTF8({ $0.iniTrimmed(0..<$0.count) == 0..<$0.count && $0.firstLineBreak(from: 0) == nil }) else {
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

    /// Leading whitespace, counted in characters as configparser does.
    private static func indentation(of text: String) -> Int {
        var text = text
        return text.withUTF8 { $0.iniIndentation() }
    }

    /// A line's kind as configparser reads it, given the indentation of the entry open above
    /// it; for an invalid line, also the column and the problem to report.
    private static func classify(_ text: String, continuingIndent: Int?) -> (kind: INILine.Kind, problem: (column: Int, problem: INIDiagnostic.Problem)?) {
        var text = text
        return text.withUTF8 { classify(utf8: $0, continuingIndent: continuingIndent) }
    }

    /// `classify` on the line's UTF-8 bytes (see `UnsafeBufferPointer+INI`).
    private static func classify(utf8 line: UnsafeBufferPointer<UInt8>, continuingIndent: Int?) -> (kind: INILine.Kind, problem: (column: Int, problem: INIDiagnostic.Problem)?) {
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
    private static func forEachLine(in text: String, from start: Int, _ body: (UnsafeBufferPointer<UInt8>, String) -> Void) {
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

/// The line where each key of one section first appears, for duplicate detection. A section
/// holds a handful of keys, where comparing with each is cheaper than hashing; a dictionary
/// takes the keys beyond the first few, so big sections stay linear.
private struct KeyFirstLines {
    private var few: [(key: String, line: Int)]
    private var many: [String: Int] = [:]

    init() {
        few = []
        few.reserveCapacity(8)
    }

    /// The line `key` first appeared on; `nil` (and `line` recorded) if this is the first time.
    mutating func firstLine(of key: String, recording line: Int) -> Int? {
        if let known = few.first(where: { $0.key == key }) { return known.line }
        if let known = many[key] { return known }
        if few.count < 8 {
            few.append((key, line))
        } else {
            many[key] = line
        }
        return nil
    }

    mutating func removeAll() {
        few.removeAll(keepingCapacity: true)
        many.removeAll(keepingCapacity: true)
    }
}

private extension INILine.Kind {
    /// Whether a reader's state after this line depends on the line alone (see `openIndent`).
    var fixesReaderState: Bool {
        switch self {
        case .sectionHeader, .entry, .invalid: return true
        case .blank, .comment, .continuation: return false
        }
    }
}
