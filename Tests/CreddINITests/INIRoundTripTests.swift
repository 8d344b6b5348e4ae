import Testing

@testable import CreddINI

@Suite("Round trip")
struct INIRoundTripTests {
    @Test("unedited documents serialise byte-identically", arguments: INIFixtures.all)
    func roundTripsText(fixture: INIFixture) {
        let document = INIDocument(parsing: fixture.text)
        #expect(Array(document.serialized().utf8) == Array(fixture.text.utf8))
    }

    @Test("parsing from bytes round-trips too", arguments: INIFixtures.all)
    func roundTripsBytes(fixture: INIFixture) throws {
        let document = try INIDocument(bytes: Array(fixture.text.utf8))
        #expect(Array(document.serialized().utf8) == Array(fixture.text.utf8))
    }

    @Test("diagnostics appear exactly for files botocore rejects", arguments: INIFixtures.all)
    func diagnosticsMatchBotocoreVerdict(fixture: INIFixture) {
        let document = INIDocument(parsing: fixture.text)
        if fixture.botocoreAccepts {
            #expect(document.diagnostics.isEmpty, "\(document.diagnostics.map(\.message))")
        } else {
            #expect(!document.diagnostics.isEmpty)
        }
    }

    @Test("every line keeps its own terminator")
    func lineTerminatorsArePerLine() {
        let document = INIDocument(parsing: "[a]\r\nx = 1\ny = 2\rz = 3")
        #expect(document.lines.map(\.terminator) == ["\r\n", "\n", "\r", ""])
        #expect(document.lines.map(\.text) == ["[a]", "x = 1", "y = 2", "z = 3"])
    }

    @Test("a removed section re-added later gives back the same text")
    func removeThenAppendIsStable() throws {
        let original = "[a]\nx = 1\n\n[b]\ny = 2\n"
        var document = INIDocument(parsing: original)
        let removed1 = document.removeSection(named: "b")
        #expect(removed1)
        try document.appendSection("b", entries: [(key: "y", value: "2")])
        #expect(document.serialized() == original)
    }
}
