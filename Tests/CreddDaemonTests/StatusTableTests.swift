import CreddControl
import CreddCore
import Foundation
import Testing

@testable import CreddCLI

struct StatusTableTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func utc(_: Date) -> Int { 0 }

    static func document(_ profiles: [StatusDocument.Profile], configErrors: [String] = []) -> StatusDocument {
        StatusDocument(
            daemon: .init(
                pid: 42, version: "0.1.0", startedAt: AWSTimestamp.format(now), configFile: "/home/a/.config/credd/config",
                credentialsFile: "/home/a/.aws/credentials", endpoint: "http://127.0.0.1:9911", configErrors: configErrors),
            profiles: profiles)
    }

    static func profile(_ name: String, _ state: String, expiresIn: TimeInterval?, nextIn: TimeInterval?, error: String? = nil)
        -> StatusDocument.Profile
    {
        StatusDocument.Profile(
            name: name, state: state,
            expiration: expiresIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            nextRefresh: nextIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            lastRefresh: nil, source: "alice-long-term (keys)", error: error)
    }

    @Test func rowsShowRelativeTimesAndErrorsUnderTheRow() {
        let text = StatusTable.render(
            Self.document([
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

    @Test func ssoSessionsShowTheTokenAndTheSignInToRun() {
        var dev = Self.profile(
            "dev-sso", "needs_login", expiresIn: 20 * 60, nextIn: nil,
            error: "needs an IAM Identity Center sign-in for dev-sso: run `credd login corp`")
        dev.action = StatusDocument.Action(
            kind: "login", profile: "dev-sso", command: "credd login corp", deadline: AWSTimestamp.format(Self.now.addingTimeInterval(20 * 60)),
            mfaSerial: nil)
        var document = Self.document([dev])
        document.ssoSessions = [
            StatusDocument.SSOSession(
                name: "corp", startURL: "https://corp.awsapps.com/start", region: "us-east-1", state: "needs_login", tokenExpiration: nil,
                canRefresh: false, registrationExpiration: nil, loginNeededAt: nil, lastRefresh: nil,
                error: "the Identity Center session ended (the refresh token was refused): run `credd login corp`",
                action: StatusDocument.Action(kind: "login", profile: "corp", command: "credd login corp", deadline: nil, mfaSerial: nil)),
            StatusDocument.SSOSession(
                name: "team", startURL: "https://team.awsapps.com/start", region: "eu-west-1", state: "fresh",
                tokenExpiration: AWSTimestamp.format(Self.now.addingTimeInterval(3000)), canRefresh: true,
                registrationExpiration: AWSTimestamp.format(Self.now.addingTimeInterval(89 * 86_400)), loginNeededAt: nil, lastRefresh: nil,
                error: nil, action: nil),
        ]
        let text = StatusTable.render(document, now: Self.now, colour: false, width: 200, secondsFromGMT: Self.utc)
        #expect(text.contains("IAM Identity Center sessions:\n  corp  needs_login, token expires -, cannot be refreshed\n"))
        #expect(!text.contains("    sign in:"), "the error already names the command")
        #expect(text.contains("  team  fresh, token expires in 50m, refreshes by itself (registration ends in 89d"))
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(
            words.contains("dev-sso: needs an IAM Identity Center sign-in: run `credd login corp` (its session ends 08:20, in 20 min)"), "\(text)")
        #expect(!document.isHealthy)
    }

    @Test func colourOnlyColoursTheState() {
        let text = StatusTable.render(
            Self.document([Self.profile("mfa", "fresh", expiresIn: 3600, nextIn: 600)]), now: Self.now, colour: true, secondsFromGMT: Self.utc)
        #expect(text.contains("\u{1B}[32mfresh"))
    }

    @Test func configErrorsAndEmptyConfigAreShown() {
        let text = StatusTable.render(
            Self.document([], configErrors: ["/c:3: [profile x] key 'y': unknown key"]), now: Self.now, colour: false, secondsFromGMT: Self.utc)
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
        let lines = StatusTable.render(Self.document([mfa, tool]), now: Self.now, colour: false, width: 200, secondsFromGMT: Self.utc)
            .split(separator: "\n").map(String.init)
        #expect(lines[2] == "    rotation: retrying, key AKIAEXAMPLENEW000002 3d0h old, next in 87d0h (rotate_after 90d)")
        #expect(lines[3] == "    leftover keys: AKIAEXAMPLEOLD000001 (delete once nothing uses them)")
        #expect(lines[4] == "    rotation error: IAM DeleteAccessKey failed: AccessDenied")
        #expect(lines[6] == "    rotation: unavailable (rotate_after 30d): [vault] gets its keys from credential_process")
    }

    static func action(_ kind: String, _ profile: String, _ command: String, deadlineIn: TimeInterval?) -> StatusDocument.Action {
        StatusDocument.Action(
            kind: kind, profile: profile, command: command, deadline: deadlineIn.map { AWSTimestamp.format(now.addingTimeInterval($0)) },
            mfaSerial: kind == "mfa_code" ? "arn:aws:iam::123456789012:mfa/alice" : nil)
    }

    @Test func profilesThatNeedTheUserGetALineUnderTheTableWithTheCommandAndTheDeadline() {
        var mfa = Self.profile("mfa", "needs_mfa", expiresIn: 2 * 3600 + 10 * 60, nextIn: nil, error: "needs an MFA code: run `credd login mfa`")
        mfa.action = Self.action("mfa_code", "mfa", "credd login mfa", deadlineIn: 2 * 3600 + 10 * 60)
        var dev = Self.profile("dev", "expired", expiresIn: -60, nextIn: nil, error: "needs an MFA code for mfa: run `credd login mfa`")
        dev.action = Self.action("mfa_code", "mfa", "credd login mfa", deadlineIn: nil)
        var ops = Self.profile("ops", "error", expiresIn: 25 * 3600, nextIn: 600, error: "AccessDenied (request id r-2)")
        ops.action = Self.action("retry", "ops", "credd refresh ops", deadlineIn: 25 * 3600)
        var old = Self.profile("old", "fresh", expiresIn: 45 * 60, nextIn: 600)
        old.action = Self.action("fix_config", "old", "credd check", deadlineIn: 45 * 60)
        let fine = Self.profile("fine", "fresh", expiresIn: 3600, nextIn: 600)
        // 1_800_000_000 is 2027-01-15T08:00:00Z; clock times are shown in the zone given (UTC+1 here).
        let text = StatusTable.render(Self.document([mfa, dev, ops, old, fine]), now: Self.now, colour: false, width: 200) { _ in 3600 }
        let actionLines = text.components(separatedBy: "\n\n").last?.split(separator: "\n").map(String.init)
        #expect(
            actionLines == [
                "mfa needs an MFA code: run `credd login mfa` (its session ends 11:10, in 2 h 10 min)",
                "dev needs an MFA code for mfa: run `credd login mfa` (no session in service)",
                "ops: renewal failed; once the cause is fixed, run `credd refresh ops` to retry now (its session ends 2027-01-16 10:00, in 1 d 1 h)",
                "old: its config has errors (it runs on its last good definition): run `credd check` (its session ends 09:45, in 45 min)",
            ])
        #expect(
            !StatusTable.render(Self.document([fine]), now: Self.now, colour: false, secondsFromGMT: Self.utc).contains("\n\n"),
            "nothing to do: no lines under the table")
    }

    @Test(arguments: [(30, "30 s"), (45 * 60, "45 min"), (2 * 3600, "2 h"), (2 * 3600 + 600, "2 h 10 min"), (86_400 + 3600, "1 d 1 h")])
    func spokenDurations(seconds: Int, expected: String) {
        #expect(StatusTable.spoken(seconds) == expected)
    }

    @Test(arguments: [(0, "0s"), (59, "59s"), (60, "1m"), (3600, "1h00m"), (90061, "1d1h")])
    func compactDurations(seconds: Int, expected: String) {
        #expect(StatusTable.compact(seconds) == expected)
    }
}

/// `credd status` at 80 columns, as a terminal shows it: nothing wider, no word broken.
struct StatusTableGoldenTests {
    static let now = StatusTableTests.now

    static func golden() -> StatusDocument {
        let accessDenied =
            "STS AssumeRole: AccessDenied: User: arn:aws:iam::123456789012:user/alice is not authorized to perform:"
            + " sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Deployer (request id 4d3f0a52-9c1e-4b8e-8f00-1a2b3c4d5e6f)"
        let throttled = "STS AssumeRole: Throttling: Rate exceeded (request id 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0); retry 3 in 40 s"
        var needsCode = StatusTableTests.profile(
            "mfa", "needs_mfa", expiresIn: 2 * 3600 + 10 * 60, nextIn: nil, error: "needs an MFA code: run `credd login mfa`")
        needsCode.source = "alice-long-term (keys)"
        needsCode.action = StatusTableTests.action("mfa_code", "mfa", "credd login mfa", deadlineIn: 2 * 3600 + 10 * 60)
        var fresh = StatusTableTests.profile("dev", "fresh", expiresIn: 11 * 3600 + 59 * 60, nextIn: 7 * 3600 + 60)
        fresh.source = "mfa"
        var retrying = StatusTableTests.profile("staging-readonly", "retrying", expiresIn: 40 * 60, nextIn: 40, error: throttled)
        retrying.source = "mfa"
        var failed = StatusTableTests.profile("deploy", "error", expiresIn: nil, nextIn: 20 * 60, error: accessDenied)
        failed.source = "mfa"
        failed.lastRefresh = AWSTimestamp.format(now.addingTimeInterval(-3 * 3600))
        failed.action = StatusTableTests.action("retry", "deploy", "credd refresh deploy", deadlineIn: nil)
        return StatusTableTests.document([needsCode, fresh, retrying, failed])
    }

    @Test func theTableAtEightyColumns() {
        let text = StatusTable.render(Self.golden(), now: Self.now, colour: false, width: 80, secondsFromGMT: StatusTableTests.utc)
        #expect(
            text == """
                PROFILE           STATE      EXPIRES    NEXT REFRESH  SOURCE
                mfa               needs_mfa  in 2h10m   -             alice-long-term (keys)
                    error: needs an MFA code: run `credd login mfa`
                dev               fresh      in 11h59m  in 7h01m      mfa
                staging-readonly  retrying   in 40m     in 40s        mfa
                    error: STS AssumeRole: Throttling: Rate exceeded (request id …
                deploy            error      -          in 20m        mfa
                    error: STS AssumeRole: AccessDenied: User: …

                mfa needs an MFA code: run `credd login mfa` (its session ends 10:10, in 2 h 10
                    min)
                deploy: renewal failed; once the cause is fixed, run `credd refresh deploy` to
                    retry now (no session in service)

                `credd status PROFILE` shows a profile's whole error.

                """)
        for line in text.split(separator: "\n") {
            #expect(line.count <= 80, "wider than 80 columns: \(line)")
        }
    }

    @Test func aProfileWaitingForAnIdentityCenterSignInAndARoleChainedFromIt() {
        var sso = StatusTableTests.profile(
            "dev-sso", "needs_login", expiresIn: 20 * 60, nextIn: nil,
            error: "needs an IAM Identity Center sign-in for corp (the session ended): run `credd login corp`")
        sso.source = "sso-session corp"
        sso.action = StatusTableTests.action("login", "dev-sso", "credd login corp", deadlineIn: 20 * 60)
        var chained = StatusTableTests.profile(
            "chained", "pending", expiresIn: nil, nextIn: nil, error: "needs an IAM Identity Center sign-in for dev-sso: run `credd login corp`")
        chained.source = "dev-sso"
        chained.action = StatusTableTests.action("login", "dev-sso", "credd login corp", deadlineIn: nil)
        let text = StatusTable.render(
            StatusTableTests.document([sso, chained]), now: Self.now, colour: false, width: 80, secondsFromGMT: StatusTableTests.utc)
        #expect(
            text == """
                PROFILE  STATE        EXPIRES  NEXT REFRESH  SOURCE
                dev-sso  needs_login  in 20m   -             sso-session corp
                    error: needs an IAM Identity Center sign-in for corp (the session ended): …
                chained  pending      -        -             dev-sso
                    error: needs an IAM Identity Center sign-in for dev-sso: run `credd login …

                dev-sso: needs an IAM Identity Center sign-in: run `credd login corp` (its
                    session ends 08:20, in 20 min)
                chained: needs an IAM Identity Center sign-in for dev-sso: run `credd login
                    corp` (no session in service)

                `credd status PROFILE` shows a profile's whole error.

                """)
        for line in text.split(separator: "\n") {
            #expect(line.count <= 80, "wider than 80 columns: \(line)")
        }
    }

    @Test func oneProfileInFull() throws {
        let deploy = try #require(Self.golden().profiles.last)
        let text = StatusTable.detail(deploy, now: Self.now, width: 80, secondsFromGMT: StatusTableTests.utc)
        #expect(
            text == """
                profile:      deploy
                state:        error
                expires:      -
                next refresh: 08:20 (in 20m)
                last refresh: 05:00 (3h00m ago)
                source:       mfa
                error:        STS AssumeRole: AccessDenied: User:
                              arn:aws:iam::123456789012:user/alice is not authorized to perform:
                              sts:AssumeRole on resource:
                              arn:aws:iam::222222222222:role/Deployer (request id
                              4d3f0a52-9c1e-4b8e-8f00-1a2b3c4d5e6f)
                action:       deploy: renewal failed; once the cause is fixed, run `credd
                              refresh deploy` to retry now (no session in service)

                """)
        for line in text.split(separator: "\n") {
            #expect(line.count <= 80, "wider than 80 columns: \(line)")
        }
        let words = { (text: String) in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) }
        #expect(words(text).joined(separator: " ").contains(words(deploy.error ?? "").joined(separator: " ")), "the whole error, every word")
    }

    @Test(arguments: [
        ("short enough", 20, "short enough"),
        ("cut at a word boundary here", 16, "cut at a word …"),
        ("unbreakablewordlongerthanthewidth", 10, "unbreakab…"),
    ])
    func shortened(text: String, width: Int, expected: String) {
        #expect(StatusTable.shortened(text, to: width) == expected)
        #expect(StatusTable.shortened(text, to: width).count <= width)
    }

    @Test func wrappingBreaksBetweenWordsOnly() {
        #expect(StatusTable.wrapped("    one two three four", width: 13, continuation: "      ") == "    one two\n      three\n      four\n")
        #expect(StatusTable.wrapped("averyveryverylongword x", width: 8, continuation: "  ") == "averyveryverylongword\n  x\n")
    }
}
