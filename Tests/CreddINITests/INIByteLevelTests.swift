import CreddINI
import Testing

/// Lines are read from their UTF-8 bytes and edits splice lines locally; these pin the cases
/// where that could differ from reading `String`s scalar by scalar.
@Suite("Reading and editing at the byte level")
struct INIByteLevelTests {
    @Test("non-ASCII whitespace is trimmed from keys and values and counts as indentation")
    func unicodeWhitespace() {
        // NBSP, ideographic space, em space, the ASCII separator U+001F; 値 is not whitespace.
        let document = INIDocument(parsing: "[s]\n\u{A0}Key\u{3000}=\u{2003}値 v\u{1F}\n\u{A0}\u{A0}\u{A0}more\n")
        #expect(document.lines[1].kind == .entry(key: "key", value: "値 v"))
        // Three scalars of indentation against one: a continuation, whatever the byte counts.
        #expect(document.lines[2].kind == .continuation(text: "more"))
        #expect(document.diagnostics.isEmpty)
    }

    @Test("a key's capitals are lowercased, in and beyond ASCII")
    func lowercasedKeys() {
        let document = INIDocument(parsing: "[s]\nAWS_Region = x\nÜber = y\n")
        #expect(document.value(forKey: "aws_region", inSection: "s") == "x")
        #expect(document.lines[2].kind == .entry(key: "über", value: "y"))
    }

    @Test("values with a line break anywhere are refused; tabs and long values are not", arguments: [0, 5, 7, 8, 100, 399])
    func lineBreakInLongValue(position: Int) throws {
        var document = INIDocument(parsing: "[s]\n")
        var value = Array(repeating: "T", count: 400)
        value[position] = "\r"
        #expect(throws: INIError.invalidValue(key: "k")) { try document.setValue(value.joined(), forKey: "k", inSection: "s") }
        value[position] = "\n"
        #expect(throws: INIError.invalidValue(key: "k")) { try document.setValue(value.joined(), forKey: "k", inSection: "s") }
        // Inside the value a tab is just text (at either end it would be trimmed, so refused).
        value[position] = "T"
        value[min(max(position, 1), 398)] = "\t"
        try document.setValue(value.joined(), forKey: "k", inSection: "s")
        #expect(document.value(forKey: "k", inSection: "s") == value.joined())
    }

    @Test("keys and values with whitespace the reader would trim are refused, Unicode included")
    func unicodeWhitespaceRefused() {
        var document = INIDocument(parsing: "[s]\n")
        #expect(throws: INIError.invalidKey("\u{A0}k")) { try document.setValue("v", forKey: "\u{A0}k", inSection: "s") }
        #expect(throws: INIError.invalidValue(key: "k")) { try document.setValue("v\u{3000}", forKey: "k", inSection: "s") }
        #expect(document.serialized() == "[s]\n")
    }

    @Test("removing the line between a lone CR and an empty LF line keeps the lines what a parse reads")
    func loneCarriageReturnJoinsFollowingNewline() {
        var document = INIDocument(parsing: "[s]\rx = 1\n\n[t]\n")
        #expect(document.lines.map(\.terminator) == ["\r", "\n", "\n", "\n"])
        let removed = document.removeValue(forKey: "x", inSection: "s")
        #expect(removed)
        // The bytes "[s]\r" + "\n" are one CRLF line to any reader; the document says so too.
        #expect(document.serialized() == "[s]\r\n[t]\n")
        #expect(document.lines.map(\.terminator) == ["\r\n", "\n"])
        #expect(document == INIDocument(parsing: document.serialized()))
    }

    @Test("duplicate keys are found in sections with many keys too")
    func duplicateKeyInBigSection() {
        let keys = (1...12).map { "key\($0) = \($0)" }.joined(separator: "\n")
        let document = INIDocument(parsing: "[big]\n\(keys)\nKEY11 = again\nkey2 = again\n")
        #expect(
            document.diagnostics == [
                INIDiagnostic(line: 14, column: 1, problem: .duplicateKey(key: "key11", section: "big", firstLine: 12)),
                INIDiagnostic(line: 15, column: 1, problem: .duplicateKey(key: "key2", section: "big", firstLine: 3)),
            ])
        let section = document.section(named: "big")
        #expect(section.map { document.diagnostics(in: $0) } == document.diagnostics)
    }

    @Test("the section index follows headers that edits create, move and remove")
    func sectionIndexAfterEdits() throws {
        var document = INIDocument(parsing: "[a]\nx = 1\n[b]\n[a]\ny = 2\n")
        #expect(document.sectionCount(named: "a") == 2)
        let removed = document.removeSection(named: "a")
        #expect(removed)
        #expect(document.sectionCount(named: "a") == 1)
        #expect(document.section(named: "a")?.headerLineNumber == 2)
        try document.setValue("3", forKey: "z", inSection: "b")
        #expect(document.section(named: "a")?.headerLineNumber == 3)
        try document.appendSection("c", entries: [(key: "k", value: "v")])
        #expect(document.section(named: "c")?.headerLineNumber == 6)
        #expect(document == INIDocument(parsing: document.serialized()))
    }
}
