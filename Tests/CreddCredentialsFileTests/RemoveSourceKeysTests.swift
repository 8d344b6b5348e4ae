import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddCredentialsFile

/// Removing a long-term keys section once its keys moved to the keyring: every other byte stays.
@Suite("Removing a source-keys section")
struct RemoveSourceKeysTests {
    static let before = "# my keys\r\n[default]\r\nregion = eu-west-1 ; inline\r\n\r\n"
    static let keys = "[alice]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = FAKE-SECRET-alice\r\n\r\n"
    static let after = "; the next one\r\n[bob]\r\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\r\naws_secret_access_key = FAKE-SECRET-bob\r\n"

    func writer(_ directory: TemporaryDirectory) -> CredentialsFileWriter {
        CredentialsFileWriter(path: directory.file("credentials"), clock: Fixtures.clock)
    }

    @Test("CRLF, comments and the other sections stay byte for byte; the secret is gone")
    func removesOnlyTheSection() throws {
        let directory = try TemporaryDirectory(prefix: "credd-remove-keys")
        defer { directory.remove() }
        try directory.write("credentials", Self.before + Self.keys + Self.after)
        try writer(directory).removeSourceKeys(inSection: "alice", holding: "AKIAIOSFODNN7EXAMPLE")
        let text = try String(contentsOfFile: directory.file("credentials"), encoding: .utf8)
        #expect(text == Self.before + Self.after)
        #expect(!text.contains("FAKE-SECRET-alice"))
    }

    @Test("a section edited meanwhile, or not holding keys, is left alone")
    func refusesWhatItDidNotCheck() throws {
        let directory = try TemporaryDirectory(prefix: "credd-remove-keys")
        defer { directory.remove() }
        let original = Self.before + Self.keys + Self.after
        try directory.write("credentials", original)
        let changed = #expect(throws: CredentialsFileError.self) {
            try writer(directory).removeSourceKeys(inSection: "alice", holding: "AKIAOTHERKEYEXAMPLE")
        }
        #expect(changed?.reason == .sourceKeysChanged)
        let notKeys = #expect(throws: CredentialsFileError.self) {
            try writer(directory).removeSourceKeys(inSection: "default", holding: "AKIAIOSFODNN7EXAMPLE")
        }
        #expect(notKeys?.reason == .sourceKeysMissing)
        #expect(try String(contentsOfFile: directory.file("credentials"), encoding: .utf8) == original)
    }
}
