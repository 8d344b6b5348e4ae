/// Reading: sections, values and the diagnostics AWS tools would report.
extension INIDocument {
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
        let end =
            lines[(header + 1)...].firstIndex { line in
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
    func diagnostics(inLines range: Range<Int>) -> [INIDiagnostic] {
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
