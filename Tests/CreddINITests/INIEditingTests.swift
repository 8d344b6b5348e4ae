import CreddINI
import Foundation
import Testing

@Suite("Editing changes only the touched lines")
struct INIEditingTests {
    static let credentials = """
        ; my keys
        [default]
        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
        aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

        # work account
        [work]
        aws_access_key_id=AKIAI44QH8DHBEXAMPLE   
        region: eu-west-1
        s3 =
          addressing_style = path

        """

    /// One `setValue` on `[work]` and the one change it must make to the text.
    struct SetValueCase: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let key: String
        let value: String
        let original: String
        let replacement: String
    }

    static let setValueCases = [
        SetValueCase(
            testDescription: "setting an existing key rewrites that line only", key: "region", value: "us-east-2",
            original: "region: eu-west-1", replacement: "region = us-east-2"),
        SetValueCase(
            testDescription: "setting the same value leaves the text alone, even with odd spacing", key: "AWS_ACCESS_KEY_ID",
            value: "AKIAI44QH8DHBEXAMPLE", original: "", replacement: ""),
        SetValueCase(
            testDescription: "a new key goes after the section's last entry and its nested block", key: "output", value: "json",
            original: "  addressing_style = path\n", replacement: "  addressing_style = path\noutput = json\n"),
        SetValueCase(
            testDescription: "replacing a nested key drops its continuation lines", key: "s3", value: "off",
            original: "s3 =\n  addressing_style = path\n", replacement: "s3 = off\n"),
    ]

    @Test(arguments: setValueCases)
    func setValue(_ change: SetValueCase) throws {
        var document = INIDocument(parsing: Self.credentials)
        try document.setValue(change.value, forKey: change.key, inSection: "work")
        let expected = change.original.isEmpty ? Self.credentials : Self.credentials.replacingOccurrences(change.original, with: change.replacement)
        #expect(document.serialized() == expected)
    }

    @Test("removing a key removes its line and continuations only")
    func removeKey() {
        var document = INIDocument(parsing: Self.credentials)
        let removed1 = document.removeValue(forKey: "s3", inSection: "work")
        #expect(removed1)
        let removed2 = document.removeValue(forKey: "s3", inSection: "work")
        #expect(!removed2)
        let removed3 = document.removeValue(forKey: "x", inSection: "nope")
        #expect(!removed3)
        let expected = Self.credentials.replacingOccurrences("s3 =\n  addressing_style = path\n", with: "")
        #expect(document.serialized() == expected)
    }

    @Test("appending a section adds one blank line, the header, comments and entries")
    func appendSection() throws {
        var document = INIDocument(parsing: "[a]\nx = 1")
        try document.appendSection("b", comments: ["# managed by credd"], entries: [(key: "y", value: "2")])
        #expect(document.serialized() == "[a]\nx = 1\n\n[b]\n# managed by credd\ny = 2")
        #expect(throws: INIError.sectionExists("b")) { try document.appendSection("b", entries: []) }
    }

    @Test("appending to an empty document adds no leading blank line")
    func appendToEmpty() throws {
        var document = INIDocument()
        try document.appendSection("dev", entries: [(key: "k", value: "v")])
        #expect(document.serialized() == "[dev]\nk = v\n")
    }

    @Test("new lines in a CRLF file are CRLF; untouched lines keep their endings")
    func crlfEdits() throws {
        let text = "[a]\r\nx = 1\r\n\r\n[b]\ny = 2\n"
        var document = INIDocument(parsing: text)
        try document.setValue("3", forKey: "z", inSection: "a")
        try document.setValue("4", forKey: "w", inSection: "b")
        #expect(document.serialized() == "[a]\r\nx = 1\r\nz = 3\r\n\r\n[b]\ny = 2\nw = 4\n")
    }

    @Test("appending to a CRLF file keeps CRLF")
    func crlfAppend() throws {
        var document = INIDocument(parsing: "[a]\r\nx = 1\r\n")
        try document.appendSection("b", entries: [(key: "y", value: "2")])
        #expect(document.serialized() == "[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n")
    }

    @Test("a file without a final newline still ends without one after an append at the end")
    func missingFinalNewline() throws {
        var document = INIDocument(parsing: "[a]\nx = 1")
        try document.setValue("2", forKey: "y", inSection: "a")
        #expect(document.serialized() == "[a]\nx = 1\ny = 2")
    }

    @Test("removing a middle section keeps the comment that introduces the next one")
    func removeMiddleSection() {
        var document = INIDocument(parsing: "[a]\nx = 1\n\n[b]\n# managed by credd\ny = 2\n\n# about c\n[c]\nz = 3\n")
        let removed4 = document.removeSection(named: "b")
        #expect(removed4)
        #expect(document.serialized() == "[a]\nx = 1\n\n# about c\n[c]\nz = 3\n")
        let removed5 = document.removeSection(named: "b")
        #expect(!removed5)
    }

    @Test("removing the last section drops its separating blank line")
    func removeLastSection() {
        var document = INIDocument(parsing: "[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2")
        let removed6 = document.removeSection(named: "b")
        #expect(removed6)
        #expect(document.serialized() == "[a]\r\nx = 1")
    }

    @Test("removing the only section empties the document")
    func removeOnlySection() {
        var document = INIDocument(parsing: "[a]\nx = 1\n")
        let removed7 = document.removeSection(named: "a")
        #expect(removed7)
        #expect(document.serialized() == "")
    }

    @Test("editing a missing section fails")
    func missingSection() {
        var document = INIDocument(parsing: "[a]\n")
        #expect(throws: INIError.noSuchSection("b")) { try document.setValue("1", forKey: "x", inSection: "b") }
    }

    @Test(
        "edits that would not read back are refused without echoing the value",
        arguments: [
            ("key", "two\nlines"), ("key", " padded"), ("key", "carriage\rreturn"),
        ])
    func invalidValues(key: String, value: String) {
        var document = INIDocument(parsing: "[a]\n")
        #expect(throws: INIError.invalidValue(key: key)) { try document.setValue(value, forKey: key, inSection: "a") }
        #expect(!INIError.invalidValue(key: key).description.contains(value))
        #expect(document.serialized() == "[a]\n")
    }

    @Test("keys that would parse as something else are refused", arguments: ["", "a=b", "a:b", "[x", "#x", ";x", " x", "x\ny"])
    func invalidKeys(key: String) {
        var document = INIDocument(parsing: "[a]\n")
        #expect(throws: INIError.invalidKey(key)) { try document.setValue("v", forKey: key, inSection: "a") }
    }

    @Test("section names and comments that would not read back are refused")
    func invalidSectionAndComment() {
        var document = INIDocument(parsing: "")
        #expect(throws: INIError.invalidSectionName("a]b")) { try document.appendSection("a]b", entries: []) }
        #expect(throws: INIError.invalidSectionName("")) { try document.appendSection("", entries: []) }
        #expect(throws: INIError.invalidComment) { try document.appendSection("a", comments: ["not a comment"], entries: []) }
        #expect(document.serialized() == "")
    }

    @Test("edits keep diagnostics current")
    func diagnosticsAfterEdit() throws {
        var document = INIDocument(parsing: "[a]\nx = 1\n")
        try document.appendSection("b", entries: [(key: "x", value: "1")])
        #expect(document.diagnostics.isEmpty)
        document = INIDocument(parsing: "[a]\nx = 1\n[a]\n")
        let removed8 = document.removeSection(named: "a")
        #expect(removed8)
        #expect(document.diagnostics.isEmpty)
    }
}

extension String {
    /// Test helper: `self` with the one expected occurrence of `target` replaced.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self + "<<\(target) not found>>" }
        return replacingCharacters(in: range, with: replacement)
    }
}

@Suite("Edits keep configparser's reading of indented lines")
struct INIIndentationEditingTests {
    @Test("replacing an indented key keeps its indentation, so the next key stays a key")
    func replaceIndented() throws {
        var document = INIDocument(parsing: "[s]\n  a = 1\n  b = 2\n")
        try document.setValue("9", forKey: "a", inSection: "s")
        #expect(document.serialized() == "[s]\n  a = 9\n  b = 2\n")
        #expect(document.value(forKey: "b", inSection: "s") == "2")
    }

    @Test("a key added to indented entries is indented like them")
    func insertAmongIndented() throws {
        var document = INIDocument(parsing: "[s]\n  a = 1\n\n  [t]\n  c = 3\n")
        try document.setValue("2", forKey: "b", inSection: "s")
        #expect(document.serialized() == "[s]\n  a = 1\n  b = 2\n\n  [t]\n  c = 3\n")
        #expect(document.sections.map(\.name) == ["s", "t"])
    }

    @Test("a key added to an empty section before an indented header does not swallow it")
    func insertBeforeIndentedHeader() throws {
        var document = INIDocument(parsing: "[s]\n  [t]\n")
        try document.setValue("1", forKey: "a", inSection: "s")
        #expect(document.serialized() == "[s]\n  a = 1\n  [t]\n")
        #expect(document.sections.map(\.name) == ["s", "t"])
    }
}

@Suite("Batch edits")
struct INIBatchEditingTests {
    @Test("setValues edits several keys in one pass and reports whether anything changed")
    func setValues() throws {
        var document = INIDocument(parsing: "[s]\na = 1\n  # note\nb = 2\n\n[t]\n")
        #expect(try document.setValues([(key: "b", value: "3"), (key: "c", value: "4"), (key: "a", value: "1")], inSection: "s"))
        #expect(document.serialized() == "[s]\na = 1\n  # note\nb = 3\nc = 4\n\n[t]\n")
        #expect(document == INIDocument(parsing: document.serialized()))
        #expect(try !document.setValues([(key: "b", value: "3")], inSection: "s"))
    }

    @Test("setValues validates every entry before changing anything")
    func setValuesValidatesFirst() {
        var document = INIDocument(parsing: "[s]\na = 1\n")
        #expect(throws: INIError.invalidValue(key: "b")) {
            try document.setValues([(key: "a", value: "2"), (key: "b", value: "x\ny")], inSection: "s")
        }
        #expect(document.serialized() == "[s]\na = 1\n")
    }

    @Test("sectionCount counts repeated headers")
    func sectionCount() {
        let document = INIDocument(parsing: "[a]\n[b]\n[a]\n")
        #expect(document.sectionCount(named: "a") == 2)
        #expect(document.sectionCount(named: "b") == 1)
        #expect(document.sectionCount(named: "c") == 0)
    }
}
