import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddCredentialsFile

@Suite("reading back the sessions credd wrote")
struct StoredSessionTests {
    @Test("a written session reads back with its identity; others' sections and broken ones are left out")
    func readBack() throws {
        let directory = try TemporaryDirectory(prefix: "credd-sessions")
        defer { directory.remove() }
        let path = directory.path + "/credentials"
        let user =
            "[default]\naws_access_key_id = AKIAUSER\naws_secret_access_key = user-secret\naws_session_token = user-token\nx_security_token_expires = 2030-01-01T00:00:00Z\n\n"
        let incomplete =
            "[broken]\n# managed by credd\naws_access_key_id = ASIABROKEN\naws_secret_access_key = s\nx_security_token_expires = 2030-01-01T00:00:00Z\n\n"
        let badExpiry =
            "[baddate]\n# managed by credd\naws_access_key_id = ASIABAD\naws_secret_access_key = s\naws_session_token = t\nx_security_token_expires = tomorrow\n\n"
        let older = Fixtures.managedSection("old", "old")
        try directory.write("credentials", user + incomplete + badExpiry + older, mode: nil)
        let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
        try writer.apply([.write(section: "dev", credentials: Fixtures.session("dev"), identity: "feedface")])

        let sessions = try writer.storedSessions()
        #expect(Set(sessions.keys) == ["dev", "old"])
        #expect(sessions["dev"] == StoredSession(credentials: Fixtures.session("dev"), identity: "feedface"))
        // Written by a credd without identities: read, but matches no profile.
        #expect(sessions["old"]?.identity == nil)
        #expect(sessions["old"]?.credentials == Fixtures.session("old"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("x_credd_identity = feedface\n"))
    }

    @Test("a rewrite replaces the identity with the new one")
    func identityReplaced() throws {
        let directory = try TemporaryDirectory(prefix: "credd-sessions")
        defer { directory.remove() }
        let writer = CredentialsFileWriter(path: directory.path + "/credentials", clock: Fixtures.clock)
        try writer.apply([.write(section: "dev", credentials: Fixtures.session("dev"), identity: "first")])
        try writer.apply([.write(section: "dev", credentials: Fixtures.session("dev"), identity: "second")])
        #expect(try writer.storedSessions()["dev"]?.identity == "second")
        let text = try String(contentsOfFile: directory.path + "/credentials", encoding: .utf8)
        #expect(text.components(separatedBy: "x_credd_identity").count == 2)
    }

    @Test("an absent file holds no sessions; an unreadable one is an error naming the file")
    func absentAndUnreadable() throws {
        let directory = try TemporaryDirectory(prefix: "credd-sessions")
        defer { directory.remove() }
        #expect(try CredentialsFileWriter(path: directory.path + "/none", clock: Fixtures.clock).storedSessions().isEmpty)
        try directory.write("credentials", "[a]\n# managed by credd\n", mode: nil)
        try Data([0x5B, 0x61, 0x5D, 0x0A, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: directory.path + "/credentials"))
        let error = #expect(throws: CredentialsFileError.self) {
            try CredentialsFileWriter(path: directory.path + "/credentials", clock: Fixtures.clock).storedSessions()
        }
        #expect(error?.description.contains(directory.path + "/credentials") == true)
    }
}
