/// A lossless AWS-dialect INI document (`~/.aws/config`, `~/.aws/credentials`, credd's config).
///
/// Parsing keeps every byte: serialising an unedited document gives back the input exactly.
/// Edits touch only the lines they must. Reading follows botocore's configparser, the strictest
/// common reader: keys are case-insensitive, `=` or `:` delimit, inline `#` is part of the value.
public struct INIDocument: Sendable, Hashable {
    /// Every physical line, in order; serialising them gives the file back.
    public internal(set) var lines: [INILine]
    /// Whether the input began with a UTF-8 byte-order mark (kept on output).
    public let hasByteOrderMark: Bool
    /// The indices of the header lines of each section name, ascending. Every edit keeps it in
    /// step with `lines`, so finding a section costs no scan of the file: credd edits up to
    /// thousands of sections in one rewrite. Derived from `lines`, so equality ignores it.
    var headerIndices: [String: [Int]]

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
}
