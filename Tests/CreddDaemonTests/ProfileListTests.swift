import CreddConfig
import Testing

@testable import CreddCLI

/// `credd list`: rows from the config alone, states from the daemon when it answered.
@Suite("credd list")
struct ProfileListTests {
    static let config = """
        [profile dev]
        source_profile = mfa
        role_arn = arn:aws:iam::222222222222:role/Developer
        region = eu-west-1

        [profile mfa]
        source_profile = alice
        mfa_serial = arn:aws:iam::111111111111:mfa/alice

        [profile tool]
        source_profile = helper
        role_arn = arn:aws:iam::222222222222:role/Tool

        [profile broken]
        source_profile = mfa
        role_arn = not-an-arn
        """

    static func load() throws -> LoadedConfiguration {
        let files = [
            "/home/a/.config/credd/config": config,
            "/home/a/.aws/credentials": "[alice]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = not-a-real-secret\n",
            "/home/a/.aws/config": "[profile helper]\ncredential_process = /usr/bin/helper\n",
        ]
        return try ConfigLoader.load(explicitPath: nil, environment: ["HOME": "/home/a"], reader: InMemoryFileReader(files: files))
    }

    @Test func rowsFollowTheConfigAndShowNoStateWithoutADaemon() throws {
        let lines = ProfileList.render(try Self.load(), states: nil).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines[0] == ["PROFILE", "KIND", "SOURCE", "REGION", "STATE"])
        #expect(lines[1] == ["dev", "role", "mfa", "eu-west-1", "-"])
        #expect(lines[2] == ["mfa", "session", "alice", "(keys)", "-", "-"])
        #expect(lines[3] == ["tool", "role", "helper", "(credential_process)", "-", "-"])
        #expect(lines[4] == ["broken", "-", "-", "-", "invalid"])
        #expect(lines[5].joined(separator: " ") == "1 profile has errors: run `credd check`")
        #expect(lines.count == 6)
    }

    @Test func statesComeFromTheDaemon() throws {
        let text = ProfileList.render(try Self.load(), states: ["dev": "fresh", "mfa": "needs_mfa"])
        let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows[1].last == "fresh")
        #expect(rows[2].last == "needs_mfa")
        #expect(rows[3].last == "-", "a profile the daemon does not report has no state")
    }

    @Test func columnsLineUp() throws {
        let lines = ProfileList.render(try Self.load(), states: nil).split(separator: "\n").prefix(3).map(String.init)
        #expect(
            lines == [
                "PROFILE  KIND     SOURCE                       REGION     STATE",
                "dev      role     mfa                          eu-west-1  -",
                "mfa      session  alice (keys)                 -          -",
            ])
    }

    @Test func namesIncludeBrokenProfiles() throws {
        #expect(ProfileList.names(try Self.load()) == ["dev", "mfa", "tool", "broken"])
    }

    @Test func anEmptyConfigSaysSo() throws {
        let configuration = try ConfigLoader.load(
            explicitPath: "/c", environment: ["HOME": "/home/a"], reader: InMemoryFileReader(files: ["/c": "[credd]\n"]))
        #expect(ProfileList.render(configuration, states: nil) == "no profiles in /c\n")
        #expect(ProfileList.names(configuration).isEmpty)
    }
}
