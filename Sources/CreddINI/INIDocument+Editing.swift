/// Editing. Every edit goes through `replaceLines`, which re-derives the kinds of the lines it touched
/// and of the few after them whose reading can change, and moves the header index: an edit
/// costs the lines it touches, not a pass over the file.
extension INIDocument {
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
                let line = INILine(
                    text: indentation.isEmpty ? newText : indentation + newText, terminator: old.terminator, kind: .entry(key: wanted, value: value))
                if entry.continuationIndices.isEmpty {
                    // An entry stays an entry at the same indentation with the same line ending,
                    // so no other line reads differently and no header moves: the common
                    // renewal edit needs no re-derivation, and the layout only the new value.
                    lines[entry.lineIndex] = line
                    layout.entries[position] = INISection.Entry(
                        key: wanted, value: value, continuation: [], lineIndex: entry.lineIndex, continuationIndices: [])
                } else {
                    replaceLines(entry.lineIndex..<(entry.lineIndex + 1), with: [line], classified: true)
                    removeLines(at: entry.continuationIndices)
                    layout = sectionLayout(named: sectionName) ?? layout
                }
            } else {
                insertLines(
                    [indentation(forInsertionAt: layout.insertionIndex, sectionHeader: layout.headerIndex) + newText], at: layout.insertionIndex)
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
    func sectionLayout(named name: String) -> (entries: [INISection.Entry], insertionIndex: Int, headerIndex: Int)? {
        guard let section = section(named: name) else { return nil }
        return (section.entries, section.insertionIndex, section.headerIndex)
    }

    func removalRange(ofSectionNamed name: String) -> Range<Int>? {
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
    func terminator(forInsertionAt index: Int) -> String {
        let before = lines[..<min(index, lines.count)].last { !$0.terminator.isEmpty }
        return before?.terminator ?? lines.first { !$0.terminator.isEmpty }?.terminator ?? "\n"
    }

    mutating func insertLines(_ texts: [String], at index: Int) {
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
    mutating func removeLines(at indices: [Int]) {
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
    mutating func setTerminator(_ terminator: String, ofLineAt index: Int) {
        let line = lines[index]
        lines[index] = INILine(text: line.text, terminator: terminator, kind: line.kind)
    }

    /// Replaces the lines in `range` with `newLines`, then gives every line the kind a fresh
    /// parse would and moves the header index to match. `classified`: the new lines already
    /// carry those kinds; otherwise their kinds are placeholders to be derived.
    mutating func replaceLines(_ range: Range<Int>, with newLines: [INILine], classified: Bool) {
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
    mutating func joinSplitLineBreak(before index: Int) {
        guard index > 0, index < lines.count, lines[index - 1].terminator == "\r",
            lines[index].text.isEmpty, lines[index].terminator == "\n"
        else { return }
        setTerminator("\r\n", ofLineAt: index - 1)
        replaceLines(index..<(index + 1), with: [], classified: true)
    }

    /// Re-derives kinds from `start`, where `lines[start..<editedEnd]` are new. A line's kind
    /// depends only on its text and on the indentation of the entry open above it. So the pass
    /// stops past the edit as soon as that state is what the old lines left (usually at once),
    /// or a line keeps a kind that fixes the state by itself (a header, entry or invalid line):
    /// every later line reads as before.
    mutating func reclassify(from start: Int, editedEnd: Int, stateBefore: Int?, stateAfterOldLines: Int?) {
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
    func openIndent(before index: Int) -> Int? {
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

    mutating func addHeader(_ name: String, at index: Int) {
        let position = headerIndices[name]?.firstIndex { $0 > index } ?? headerIndices[name]?.count ?? 0
        headerIndices[name, default: []].insert(index, at: position)
    }

    mutating func removeHeader(_ name: String, at index: Int) {
        headerIndices[name]?.removeAll { $0 == index }
        if headerIndices[name]?.isEmpty == true { headerIndices[name] = nil }
    }

    /// Moves every header at or after `start` by `shift` lines, in place.
    mutating func shiftHeaderIndices(from start: Int, by shift: Int) {
        for position in headerIndices.indices {
            for slot in headerIndices.values[position].indices where headerIndices.values[position][slot] >= start {
                headerIndices.values[position][slot] += shift
            }
        }
    }

    /// Indentation for a new entry at `index` that neither continues the entry above it nor
    /// turns the next line into a continuation: the open entry's own indentation, else that of
    /// the next header or entry.
    func indentation(forInsertionAt index: Int, sectionHeader: Int) -> String {
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
    static func entryText(key: String, value: String) -> String {
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

    static func leadingWhitespace(of text: String) -> String {
        String(Substring(text.unicodeScalars.prefix { $0.isINIWhitespace }))
    }

    /// Rejects what would not read back as the same single entry: line breaks, a key that
    /// would parse as something else, or whitespace the reader would trim. Never echoes the
    /// value, which may be a secret.
    static func validateEntry(key: String, value: String) throws(INIError) {
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

    static func validateSectionName(_ name: String) throws(INIError) {
        let scalars = name.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, !first.isINIWhitespace, !last.isINIWhitespace,
            !scalars.contains(where: { $0 == "]" || $0 == "\n" || $0 == "\r" })
        else { throw INIError.invalidSectionName(name) }
    }
}
