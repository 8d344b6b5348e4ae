import CreddINI
import Testing

@Suite("Parsing as botocore reads")
struct INIParsingTests {
    @Test("section kinds found in real ~/.aws files")
    func sectionNames() {
        let document = INIDocument(
            parsing: """
                [default]
                [profile dev]
                [sso-session corp]
                [services local]
                [ profile spaced ]
                """)
        #expect(document.sections.map(\.name) == ["default", "profile dev", "sso-session corp", "services local", " profile spaced "])
        #expect(document.sections.map(\.headerLineNumber) == [1, 2, 3, 4, 5])
    }

    @Test("an inline # or ; stays in the value, as in botocore")
    func inlineCommentsAreValue() {
        let document = INIDocument(parsing: INIFixtures.accepted.first { $0.name == "inline hash kept in value" }?.text ?? "")
        #expect(document.value(forKey: "region", inSection: "default") == "us-east-1 # this stays in the value for botocore")
        #expect(document.value(forKey: "role_arn", inSection: "default") == "arn:aws:iam::123456789012:role/a#b")
        #expect(document.value(forKey: "output", inSection: "default") == "json ; so does this")
    }

    @Test("a comment after a section header is not part of its name")
    func headerComment() {
        let document = INIDocument(parsing: "[default] # main\nregion = x\n")
        #expect(document.sections.map(\.name) == ["default"])
    }

    @Test("full-line comments, indented or not, are comments")
    func comments() {
        let document = INIDocument(parsing: "# a\n; b\n[s]\n   # c\n\t; d\nk = v\n    # e\n")
        #expect(
            document.lines.map(\.kind) == [.comment, .comment, .sectionHeader(name: "s"), .comment, .comment, .entry(key: "k", value: "v"), .comment])
        #expect(document.diagnostics.isEmpty)
    }

    @Test("'=' or ':' delimits; the first one wins")
    func delimiters() {
        let document = INIDocument(parsing: "[s]\na: 1\nb = x:y=z\nc:d = 2\n")
        #expect(document.value(forKey: "a", inSection: "s") == "1")
        #expect(document.value(forKey: "b", inSection: "s") == "x:y=z")
        #expect(document.value(forKey: "c", inSection: "s") == "d = 2")
    }

    @Test("keys are lowercased and looked up case-insensitively; section names are not")
    func keyCase() {
        let document = INIDocument(parsing: "[Default]\nAWS_Access_Key_ID = AKIDEXAMPLE\n")
        #expect(document.lines[1].kind == .entry(key: "aws_access_key_id", value: "AKIDEXAMPLE"))
        #expect(document.value(forKey: "AWS_ACCESS_KEY_ID", inSection: "Default") == "AKIDEXAMPLE")
        #expect(document.section(named: "default") == nil)
    }

    @Test("whitespace around keys and values is trimmed the way Python's strip() does")
    func trimming() {
        let document = INIDocument(parsing: "[s]\n\tkey\t =  value \u{00A0}\nempty =\n")
        #expect(document.value(forKey: "key", inSection: "s") == "value")
        #expect(document.value(forKey: "empty", inSection: "s") == "")
    }

    @Test("nested blocks become sub-entries with their case kept")
    func nestedBlocks() throws {
        let document = INIDocument(
            parsing: "[profile d]\ns3 =\n  Max_Concurrent_Requests = 20\n\n  # note\n  addressing_style = path\nregion = us-east-1\n")
        let entry = try #require(document.section(named: "profile d")?.entry(forKey: "s3"))
        #expect(entry.value == "")
        #expect(entry.subEntries.map(\.key) == ["Max_Concurrent_Requests", "addressing_style"])
        #expect(entry.subEntries.map(\.value) == ["20", "path"])
        #expect(entry.continuationIndices == [2, 5])
        #expect(document.value(forKey: "region", inSection: "profile d") == "us-east-1")
    }

    @Test("a line continues a value only when indented deeper than the key's line")
    func continuationNeedsDeeperIndent() {
        let document = INIDocument(parsing: "[s]\n  a = 1\n  b = 2\n    more\nc = 3\n")
        #expect(
            document.lines.map(\.kind) == [
                .sectionHeader(name: "s"), .entry(key: "a", value: "1"), .entry(key: "b", value: "2"),
                .continuation(text: "more"), .entry(key: "c", value: "3"),
            ])
    }

    @Test("an indented line right after a header is an entry, not a continuation")
    func indentedFirstEntry() {
        let document = INIDocument(parsing: "[s]\n  a = 1\n")
        #expect(document.lines[1].kind == .entry(key: "a", value: "1"))
        #expect(document.diagnostics.isEmpty)
    }

    @Test("unicode in names, values and comments")
    func unicode() {
        let document = INIDocument(parsing: "# für\n[profile développement]\nnote = 開発 🚀\n")
        #expect(document.value(forKey: "note", inSection: "profile développement") == "開発 🚀")
    }

    @Test("an empty file has no lines, sections or diagnostics")
    func emptyFile() {
        let document = INIDocument(parsing: "")
        #expect(document.lines.isEmpty)
        #expect(document.sections.isEmpty)
        #expect(document.diagnostics.isEmpty)
        #expect(document.serialized() == "")
    }

    @Test("a byte-order mark is kept but reported at 1:1")
    func byteOrderMark() {
        let document = INIDocument(parsing: "\u{FEFF}[default]\n")
        #expect(document.hasByteOrderMark)
        #expect(document.sections.map(\.name) == ["default"])
        #expect(document.diagnostics == [INIDiagnostic(line: 1, column: 1, problem: .byteOrderMark)])
        #expect(document.diagnostics[0].message == "the file starts with a UTF-8 byte-order mark, which botocore rejects")
    }

    @Test("duplicate sections are reported with both line numbers")
    func duplicateSections() {
        let document = INIDocument(parsing: "[a]\nx = 1\n[b]\n[a]\ny = 2\n")
        #expect(document.diagnostics == [INIDiagnostic(line: 4, column: 1, problem: .duplicateSection(name: "a", firstLine: 1))])
        #expect(document.diagnostics[0].message.contains("first at line 1"))
    }

    @Test("duplicate keys are found case-insensitively, per section")
    func duplicateKeys() {
        let document = INIDocument(parsing: "[a]\nregion = 1\n[b]\nregion = 2\nREGION = 3\n")
        #expect(document.diagnostics == [INIDiagnostic(line: 5, column: 1, problem: .duplicateKey(key: "region", section: "b", firstLine: 4))])
    }

    struct PositionCase: Sendable, CustomTestStringConvertible {
        let text: String
        let line: Int
        let column: Int
        let problem: INIDiagnostic.Problem
        var testDescription: String { "\(problem)" }
    }

    @Test(
        "parse errors name line and column",
        arguments: [
            PositionCase(text: "x = 1\n", line: 1, column: 1, problem: .entryOutsideSection),
            PositionCase(text: "[s]\n   just words\n", line: 2, column: 4, problem: .missingDelimiter),
            PositionCase(text: "[s]\n\t= v\n", line: 2, column: 2, problem: .emptyKey),
            PositionCase(text: "[s]\n[unclosed\n", line: 2, column: 10, problem: .unterminatedSectionHeader),
            PositionCase(text: "# c\n[]\n", line: 2, column: 2, problem: .emptySectionName),
            PositionCase(text: "[s]\ns3 =\n    no equals\n", line: 3, column: 5, problem: .nestedLineWithoutDelimiter),
        ])
    func positions(testCase: PositionCase) {
        let document = INIDocument(parsing: testCase.text)
        #expect(document.diagnostics == [INIDiagnostic(line: testCase.line, column: testCase.column, problem: testCase.problem)])
    }

    @Test("invalid UTF-8 fails with the line it is on")
    func invalidUTF8() {
        let bytes: [UInt8] = Array("[a]\nx = 1\ny = ".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
        #expect(throws: INIError.invalidUTF8(line: 3)) { try INIDocument(bytes: bytes) }
        #expect(INIError.invalidUTF8(line: 3).description == "line 3: not valid UTF-8")
    }
}
