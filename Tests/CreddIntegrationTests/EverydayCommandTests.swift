import CreddTestSupport
import Foundation
import Testing

/// `--version`, `credd status PROFILE`, and failures printed once, from the real binary.
@Suite(.serialized)
struct EverydayCommandTests {
    @Test func versionNamesTheCommitAndTheBuildDate() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        let output = try harness.cli(["--version"])
        #expect(output.status == 0)
        // A plain `swift build` says "unknown" for both; scripts/build-info fills them in.
        #expect(
            output.stdout.wholeMatch(of: /credd \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown), built (\d{4}-\d\d-\d\d|unknown)\)\n/) != nil,
            "\(output.stdout)")
    }

    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
    func statusOfOneProfileShowsEveryFieldAndExitsByItsState() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()

        let detail = try harness.cli(["status", "dev"])
        #expect(detail.status == 0, "\(detail.stderr)")
        let labels = detail.stdout.split(separator: "\n").compactMap { $0.first == " " ? nil : $0.split(separator: ":").first.map(String.init) }
        #expect(labels == ["profile", "state", "expires", "next refresh", "last refresh", "source", "last error", "action"], "\(detail.stdout)")
        #expect(detail.stdout.hasPrefix("profile:      dev\nstate:        fresh\n"))
        #expect(detail.stdout.contains("\nsource:       mfa > alice-long-term\n"))
        #expect(detail.stdout.contains(" ago)\nsource:"), "the last refresh has passed: \(detail.stdout)")

        let json = try harness.cli(["status", "dev", "--json"])
        #expect(json.status == 0)
        #expect(try harness.statusSchemaViolation(json.stdout) == nil)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((document?["profiles"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["dev"])

        let unknown = try harness.cli(["status", "nosuch"])
        #expect(unknown.status == 1)
        #expect(unknown.stdout.isEmpty)
        #expect(unknown.stderr == "credd: the daemon manages no profile nosuch (see credd list)\n")
        let unknownJSON = try harness.cli(["status", "nosuch", "--json"])
        #expect(unknownJSON.status == 1)
        #expect(unknownJSON.stdout == #"{"error":"the daemon manages no profile nosuch (see credd list)"}"# + "\n")
        #expect(unknownJSON.stderr.isEmpty)
        #expect(try harness.stop() == 0)
    }

    /// A refused rotation (the user already has two keys): the reason once, no log line repeating it.
    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
    func aFailedRotationIsPrintedOnce() async throws {
        let moto = try await MotoServer.start()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        let user = try await moto.createUser("alice", allowing: ["iam:ListAccessKeys", "iam:CreateAccessKey"], extraKeys: 1)
        try harness.writeCredentials(HandEditedCredentials(keys: user.credentials).text)
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile base]
            source_profile = alice
            """)
        let output = try harness.cli(["rotate", "base"])
        #expect(output.status == 1)
        #expect(output.stdout.isEmpty)
        #expect(!output.stderr.contains("Key rotation failed"), "the daemon's log line, not the command's message: \(output.stderr)")
        let messages = output.stderr.split(separator: "\n").filter { $0.hasPrefix("credd: ") }
        #expect(messages.count == 1, "\(output.stderr)")
        #expect(output.stderr.contains(user.extraAccessKeyIds.first ?? "-"), "the message names every key: \(output.stderr)")
        #expect(!output.stderr.contains(user.credentials.secretAccessKey.revealed))
    }
}
