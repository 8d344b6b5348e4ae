@testable import CreddCLI
import CreddCore
import CreddDaemon
import Foundation
import Testing

struct StatusTableTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func document(_ profiles: [StatusDocument.Profile], configErrors: [String] = []) -> StatusDocument {
        StatusDocument(
            daemon: .init(pid: 42, version: "0.1.0", started_at: AWSTimestamp.format(now), config_file: "/home/a/.config/credd/config",
                          credentials_file: "/home/a/.aws/credentials", endpoint: "http://127.0.0.1:9911", config_errors: configErrors),
            profiles: profiles)
    }

    static func profile(_ name: String, _ state: String, expiresIn: TimeInterval?, nextIn: TimeInterval?, error: String? = nil) -> StatusDocument.Profile {
        StatusDocument.Profile(
            name: name, state: state,
            expiration: expiresIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            next_refresh: nextIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            last_refresh: nil, source: "alice-long-term (keys)", error: error)
    }

    @Test func rowsShowRelativeTimesAndErrorsUnderTheRow() {
        let text = StatusTable.render(Self.document([
            Self.profile("mfa", "fresh", expiresIn: 11 * 3600 + 59 * 60, nextIn: 7 * 3600 + 60),
            Self.profile("dev", "retrying", expiresIn: 40 * 60, nextIn: 30, error: "STS AssumeRole: Throttling (request id r-1)"),
            Self.profile("old", "expired", expiresIn: -300, nextIn: nil),
        ]), now: Self.now, colour: false)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("PROFILE"))
        #expect(lines[1].contains("mfa") && lines[1].contains("fresh") && lines[1].contains("in 11h59m") && lines[1].contains("in 7h01m"))
        #expect(lines[2].contains("retrying") && lines[2].contains("in 40m") && lines[2].contains("in 30s"))
        #expect(lines[3].contains("error: STS AssumeRole: Throttling"))
        #expect(lines[4].contains("expired 5m ago"))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")
    }

    @Test func colourOnlyColoursTheState() {
        let text = StatusTable.render(Self.document([Self.profile("mfa", "fresh", expiresIn: 3600, nextIn: 600)]), now: Self.now, colour: true)
        #expect(text.contains("\u{1B}[32mfresh"))
    }

    @Test func configErrorsAndEmptyConfigAreShown() {
        let text = StatusTable.render(Self.document([], configErrors: ["/c:3: [profile x] key 'y': unknown key"]), now: Self.now, colour: false)
        #expect(text.contains("config: /c:3"))
        #expect(text.contains("no managed profiles"))
    }

    @Test func rotationIsALineUnderTheRowWithLeftoversAndErrors() {
        var mfa = Self.profile("mfa", "fresh", expiresIn: 3600, nextIn: 600)
        mfa.rotation = StatusDocument.Rotation(
            state: "retrying", rotate_after: "90d", section: "alice", key_id: "AKIAEXAMPLENEW000002",
            key_created: AWSTimestamp.format(Self.now.addingTimeInterval(-3 * 86_400)), key_age_seconds: 3 * 86_400,
            next_rotation: AWSTimestamp.format(Self.now.addingTimeInterval(87 * 86_400)), last_rotation: nil,
            leftover_key_ids: ["AKIAEXAMPLEOLD000001"], last_error: "IAM DeleteAccessKey failed: AccessDenied", unavailable_reason: nil)
        var tool = Self.profile("tool", "fresh", expiresIn: 3600, nextIn: 600)
        tool.rotation = StatusDocument.Rotation(
            state: "unavailable", rotate_after: "30d", section: nil, key_id: nil, key_created: nil, key_age_seconds: nil, next_rotation: nil,
            last_rotation: nil, leftover_key_ids: [], last_error: nil, unavailable_reason: "[vault] gets its keys from credential_process")
        let lines = StatusTable.render(Self.document([mfa, tool]), now: Self.now, colour: false).split(separator: "\n").map(String.init)
        #expect(lines[2] == "    rotation: retrying, key AKIAEXAMPLENEW000002 3d0h old, next in 87d0h (rotate_after 90d)")
        #expect(lines[3] == "    leftover keys: AKIAEXAMPLEOLD000001 (delete once nothing uses them)")
        #expect(lines[4] == "    rotation error: IAM DeleteAccessKey failed: AccessDenied")
        #expect(lines[6] == "    rotation: unavailable (rotate_after 30d): [vault] gets its keys from credential_process")
    }

    @Test(arguments: [(0, "0s"), (59, "59s"), (60, "1m"), (3600, "1h00m"), (90061, "1d1h")])
    func compactDurations(seconds: Int, expected: String) {
        #expect(StatusTable.compact(seconds) == expected)
    }
}
