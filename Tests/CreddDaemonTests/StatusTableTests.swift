@testable import CreddCLI
import CreddCore
import CreddDaemon
import Foundation
import Testing

struct StatusTableTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func utc(_: Date) -> Int { 0 }

    static func document(_ profiles: [StatusDocument.Profile], configErrors: [String] = []) -> StatusDocument {
        StatusDocument(
            daemon: .init(pid: 42, version: "0.1.0", startedAt: AWSTimestamp.format(now), configFile: "/home/a/.config/credd/config",
                          credentialsFile: "/home/a/.aws/credentials", endpoint: "http://127.0.0.1:9911", configErrors: configErrors),
            profiles: profiles)
    }

    static func profile(_ name: String, _ state: String, expiresIn: TimeInterval?, nextIn: TimeInterval?, error: String? = nil) -> StatusDocument.Profile {
        StatusDocument.Profile(
            name: name, state: state,
            expiration: expiresIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            nextRefresh: nextIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            lastRefresh: nil, source: "alice-long-term (keys)", error: error)
    }

    @Test func rowsShowRelativeTimesAndErrorsUnderTheRow() {
        let text = StatusTable.render(Self.document([
            Self.profile("mfa", "fresh", expiresIn: 11 * 3600 + 59 * 60, nextIn: 7 * 3600 + 60),
            Self.profile("dev", "retrying", expiresIn: 40 * 60, nextIn: 30, error: "STS AssumeRole: Throttling (request id r-1)"),
            Self.profile("old", "expired", expiresIn: -300, nextIn: nil),
        ]), now: Self.now, colour: false, secondsFromGMT: Self.utc)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("PROFILE"))
        #expect(lines[1].contains("mfa") && lines[1].contains("fresh") && lines[1].contains("in 11h59m") && lines[1].contains("in 7h01m"))
        #expect(lines[2].contains("retrying") && lines[2].contains("in 40m") && lines[2].contains("in 30s"))
        #expect(lines[3].contains("error: STS AssumeRole: Throttling"))
        #expect(lines[4].contains("expired 5m ago"))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")
    }

    @Test func colourOnlyColoursTheState() {
        let text = StatusTable.render(Self.document([Self.profile("mfa", "fresh", expiresIn: 3600, nextIn: 600)]), now: Self.now, colour: true, secondsFromGMT: Self.utc)
        #expect(text.contains("\u{1B}[32mfresh"))
    }

    @Test func configErrorsAndEmptyConfigAreShown() {
        let text = StatusTable.render(Self.document([], configErrors: ["/c:3: [profile x] key 'y': unknown key"]), now: Self.now, colour: false, secondsFromGMT: Self.utc)
        #expect(text.contains("config: /c:3"))
        #expect(text.contains("no managed profiles"))
    }

    @Test func rotationIsALineUnderTheRowWithLeftoversAndErrors() {
        var mfa = Self.profile("mfa", "fresh", expiresIn: 3600, nextIn: 600)
        mfa.rotation = StatusDocument.Rotation(
            state: "retrying", rotateAfter: "90d", section: "alice", keyId: "AKIAEXAMPLENEW000002",
            keyCreated: AWSTimestamp.format(Self.now.addingTimeInterval(-3 * 86_400)), keyAgeSeconds: 3 * 86_400,
            nextRotation: AWSTimestamp.format(Self.now.addingTimeInterval(87 * 86_400)), lastRotation: nil,
            leftoverKeyIds: ["AKIAEXAMPLEOLD000001"], lastError: "IAM DeleteAccessKey failed: AccessDenied", unavailableReason: nil)
        var tool = Self.profile("tool", "fresh", expiresIn: 3600, nextIn: 600)
        tool.rotation = StatusDocument.Rotation(
            state: "unavailable", rotateAfter: "30d", section: nil, keyId: nil, keyCreated: nil, keyAgeSeconds: nil, nextRotation: nil,
            lastRotation: nil, leftoverKeyIds: [], lastError: nil, unavailableReason: "[vault] gets its keys from credential_process")
        let lines = StatusTable.render(Self.document([mfa, tool]), now: Self.now, colour: false, secondsFromGMT: Self.utc).split(separator: "\n").map(String.init)
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
