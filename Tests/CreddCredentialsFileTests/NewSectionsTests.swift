import CreddCore
import CreddINI
import CreddTestSupport
import Foundation
import Testing

@testable import CreddCredentialsFile

/// `appendMissingSections`, which `credd sso profiles --write` uses on credd's config: new
/// sections go at the end and every byte already in the file stays as it was.
struct NewSectionsTests {
    static let sections = [
        CredentialsFileWriter.NewSection(name: "profile dev-Developer", entries: [("sso_session", "corp"), ("sso_role_name", "Developer")]),
        CredentialsFileWriter.NewSection(name: "profile mine", entries: [("sso_session", "corp")]),
    ]

    @Test(arguments: [
        "[profile mine]\nregion = eu-west-1\n",
        "[profile mine]\r\nregion = eu-west-1\r\n; a comment\r\n",
        "# no newline at the end\n[profile mine]\nregion = eu-west-1",
        "\u{FEFF}[profile mine]\nregion = eu-west-1   # inline, part of the value\n\n\n",
    ])
    func theFileKeepsEveryByteAndGainsOnlyTheMissingSections(original: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("config", original, mode: 0o644)
        let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
        #expect(try writer.appendMissingSections(Self.sections) == ["profile dev-Developer"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.starts(with: Data(original.utf8)), "the file's own bytes changed")
        let document = try INIDocument(bytes: Array(bytes))
        #expect(document.value(forKey: "sso_role_name", inSection: "profile dev-Developer") == "Developer")
        #expect(document.sectionCount(named: "profile mine") == 1)
        // Everything there: nothing is written.
        #expect(try writer.appendMissingSections(Self.sections) == [])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func aMissingFileIsCreatedPrivate() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("credd/config")
        #expect(try CredentialsFileWriter(path: path, clock: Fixtures.clock).appendMissingSections(Self.sections).count == 2)
        #expect(
            try directory.read("credd/config")
                == "[profile dev-Developer]\nsso_session = corp\nsso_role_name = Developer\n\n[profile mine]\nsso_session = corp\n")
        #expect(fileStatus(path).map { $0.st_mode & 0o777 } == 0o600)
    }

    @Test func aValueTheINIDialectCannotHoldIsRefusedAndNothingIsWritten() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("config", "[profile mine]\n")
        let broken = CredentialsFileWriter.NewSection(name: "profile bad", entries: [("sso_role_name", "two\nlines")])
        #expect(throws: CredentialsFileError.self) {
            try CredentialsFileWriter(path: path, clock: Fixtures.clock).appendMissingSections([Self.sections[0], broken])
        }
        #expect(try directory.read("config") == "[profile mine]\n")
    }
}
