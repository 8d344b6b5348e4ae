import CreddINI
import Testing

/// Inputs `scripts/fuzz` found breaking an invariant (minimised), kept as regression tests.
@Suite("Defects found by fuzzing")
struct INIFuzzRegressionTests {
    @Test("removing the last section of a file without a final newline leaves no phantom empty line")
    func removeLastSectionAfterBlankLines() {
        var document = INIDocument(parsing: "\n\n[[]")
        let removed = document.removeSection(named: "[")
        #expect(removed)
        #expect(document.serialized() == "")
        #expect(document == INIDocument(parsing: document.serialized()))
        // The phantom line used to make a later append start with a stray newline.
        #expect(throws: Never.self) { try document.appendSection("a", entries: [(key: "k", value: "v")]) }
        #expect(document.serialized() == "[a]\nk = v\n")
    }

    @Test("removing a line between a lone CR and an empty LF line keeps the document equal to its text")
    func removeValueJoiningCRAndLF() {
        var document = INIDocument(parsing: "[m]\r2:\n\n")
        let removed = document.removeValue(forKey: "2", inSection: "m")
        #expect(removed)
        #expect(document.serialized() == "[m]\r\n")
        #expect(document == INIDocument(parsing: document.serialized()))
    }

    @Test("removing a section announces when an indented header after it would become a continuation")
    func removalBeforeAnIndentedHeader() {
        // Minimised from Fuzz/Open/fuzz-ini: only a header ends a value in configparser.
        let text = "[a]\nk = v\n\n[b]\n# note\n  [c]\nx = 1\n"
        var document = INIDocument(parsing: text)
        #expect(document.section(named: "c") != nil)
        #expect(document.removingSectionChangesFollowingLines(named: "b"))
        #expect(!document.removingSectionChangesFollowingLines(named: "a"))
        #expect(!document.removingSectionChangesFollowingLines(named: "c"))
        #expect(!document.removingSectionChangesFollowingLines(named: "missing"))
        let removed = document.removeSection(named: "b")
        #expect(removed)
        #expect(document.section(named: "c") == nil, "what botocore reads too")
        #expect(document == INIDocument(parsing: document.serialized()))
    }
}
