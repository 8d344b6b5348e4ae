/// A view of one section of an `INIDocument`: its header line and the lines up to the next
/// header. Indices are into `INIDocument.lines` (0-based); line numbers are 1-based.
public struct INISection: Sendable, Hashable {
    /// One `key = value` entry and the indented lines that continue it.
    public struct Entry: Sendable, Hashable {
        /// Lowercased, as botocore reads it.
        public let key: String
        /// The value on the key's own line, trimmed.
        public let value: String
        /// Trimmed continuation lines (nested sub-keys such as `s3 =` / `  max_concurrency = 10`).
        public let continuation: [String]
        /// 0-based index of the key's line in `INIDocument.lines`.
        public let lineIndex: Int
        /// 0-based indices of its continuation lines.
        public let continuationIndices: [Int]

        /// 1-based line number, for messages.
        public var lineNumber: Int { lineIndex + 1 }

        /// Nested `key = value` pairs from the continuation lines. As in botocore, nested keys
        /// keep their case and only `=` delimits; lines without one are skipped here and
        /// reported as `INIDiagnostic.Problem.nestedLineWithoutDelimiter`.
        public var subEntries: [(key: String, value: String)] {
            continuation.compactMap { line in
                guard let delimiter = line.firstIndex(of: "=") else { return nil }
                return (line[..<delimiter].trimmingINIWhitespace(), line[line.index(after: delimiter)...].trimmingINIWhitespace())
            }
        }
    }

    /// The text between the brackets, untrimmed.
    public let name: String
    /// 0-based index of the header in `INIDocument.lines`.
    public let headerIndex: Int
    /// One past the last line of the section (the next header, or the end of the document).
    public let endIndex: Int
    /// The section's entries in order, duplicates included.
    public let entries: [Entry]
    /// One past the section's last entry or continuation line: where a new key goes.
    public let contentEndIndex: Int
    /// The lines from the header up to the next section, verbatim.
    public let lines: ArraySlice<INILine>

    /// 1-based line number of the header, for messages.
    public var headerLineNumber: Int { headerIndex + 1 }

    init(document: INIDocument, name: String, headerIndex: Int, endIndex: Int) {
        self.name = name
        self.headerIndex = headerIndex
        self.endIndex = endIndex
        self.lines = document.lines[headerIndex..<endIndex]
        var entries: [Entry] = []
        entries.reserveCapacity(endIndex - headerIndex - 1)
        var pending: (key: String, value: String, index: Int, continuation: [String], indices: [Int])?
        var contentEnd = headerIndex + 1
        for index in (headerIndex + 1)..<endIndex {
            switch document.lines[index].kind {
            case let .entry(key, value):
                if let open = pending {
                    entries.append(
                        Entry(
                            key: open.key, value: open.value, continuation: open.continuation, lineIndex: open.index,
                            continuationIndices: open.indices))
                }
                pending = (key, value, index, [], [])
                contentEnd = index + 1
            case let .continuation(text):
                pending?.continuation.append(text)
                pending?.indices.append(index)
                contentEnd = index + 1
            case .invalid:
                contentEnd = index + 1
            case .blank, .comment, .sectionHeader:
                break
            }
        }
        if let open = pending {
            entries.append(
                Entry(key: open.key, value: open.value, continuation: open.continuation, lineIndex: open.index, continuationIndices: open.indices))
        }
        self.entries = entries
        self.contentEndIndex = contentEnd
    }

    /// The first entry for `key`, compared case-insensitively.
    public func entry(forKey key: String) -> Entry? {
        let wanted = key.lowercased()
        return entries.first { $0.key == wanted }
    }

    /// The value of the first entry for `key`, compared case-insensitively.
    public func value(forKey key: String) -> String? {
        entry(forKey: key)?.value
    }

    var insertionIndex: Int { contentEndIndex }
}
