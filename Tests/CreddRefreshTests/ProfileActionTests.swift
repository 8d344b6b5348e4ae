import CreddCore
import CreddRefresh
import Foundation
import Testing

@Suite("What the user must do")
struct ProfileActionTests {
    let utc = { (_: Date) in 0 }

    func status(
        _ name: String, _ state: ProfileState, source: String? = nil, expiresIn: TimeInterval? = nil, next: TimeInterval? = nil,
        error: String? = nil
    ) -> ProfileStatus {
        ProfileStatus(
            name: name, state: state, expiration: expiresIn.map { epoch.addingTimeInterval($0) },
            nextRefresh: next.map { epoch.addingTimeInterval($0) }, lastRefresh: nil, lastError: error, sourceProfile: source)
    }

    func action(_ status: ProfileStatus, among all: [ProfileStatus]) -> ProfileAction? {
        ProfileAction.needed(by: status) { name in all.first { $0.name == name } }
    }

    @Test("a profile waiting for a code, and a role chained from it, both name `credd login` of the profile that takes the code")
    func mfaCodeAlongTheChain() {
        let mfa = status("mfa", .needsMFA, expiresIn: 2 * hour)
        let dev = status("dev", .retrying, source: "mfa", expiresIn: 40 * minute)
        let ops = status("ops", .expired, source: "dev")
        let all = [mfa, dev, ops]
        #expect(action(mfa, among: all) == ProfileAction(kind: .mfaCode, profile: "mfa", command: "credd login mfa", deadline: epoch + 2 * hour))
        #expect(action(dev, among: all) == ProfileAction(kind: .mfaCode, profile: "mfa", command: "credd login mfa", deadline: epoch + 40 * minute))
        #expect(action(ops, among: all) == ProfileAction(kind: .mfaCode, profile: "mfa", command: "credd login mfa", deadline: nil))
        #expect(action(mfa, among: all)?.reason(for: "mfa") == "needs an MFA code: run `credd login mfa`")
        #expect(action(dev, among: all)?.reason(for: "dev") == "needs an MFA code for mfa: run `credd login mfa`")
    }

    @Test("a profile whose keys are in a locked keyring, and a role chained from it, say to unlock the keyring")
    func unlockAlongTheChain() {
        let mfa = status("mfa", .needsUnlock, expiresIn: hour)
        let dev = status("dev", .retrying, source: "mfa")
        #expect(
            action(mfa, among: [mfa, dev]) == ProfileAction(kind: .unlock, profile: "mfa", command: "credd keys unlock", deadline: epoch + hour))
        #expect(action(dev, among: [mfa, dev])?.profile == "mfa")
        #expect(
            action(dev, among: [mfa, dev])?.reason(for: "dev")
                == "its long-term keys are in a locked keyring for mfa: run `credd keys unlock` or unlock it on your desktop")
        #expect(mfa.journalMessage(action: action(mfa, among: [mfa]), now: epoch).contains("credd keys unlock"))
    }

    @Test("a failed profile, or a role on a failed source, names `credd refresh` of the failed one")
    func retryAlongTheChain() {
        let mfa = status("mfa", .error, error: "AccessDenied")
        let dev = status("dev", .retrying, source: "mfa")
        #expect(action(mfa, among: [mfa, dev])?.command == "credd refresh mfa")
        #expect(action(mfa, among: [mfa, dev])?.kind == .retry)
        #expect(action(dev, among: [mfa, dev])?.command == "credd refresh mfa")
        #expect(
            action(dev, among: [mfa, dev])?.reason(for: "dev")
                == "its source mfa failed; once the cause is fixed, run `credd refresh mfa` to retry now")
    }

    @Test("a profile waiting for a sign-in, and a role chained from it, both name `credd login SESSION` in status, STATUS= and the journal")
    func signInAlongTheChain() {
        let sso = ProfileStatus(
            name: "dev-sso", state: .needsLogin, expiration: epoch + 20 * minute, nextRefresh: nil, lastRefresh: nil,
            lastError: "needs an IAM Identity Center sign-in for corp (the session ended): run `credd login corp`", sourceProfile: nil,
            signInName: "corp")
        let ops = status("ops", .retrying, source: "dev-sso", expiresIn: 10 * minute)
        let all = [sso, ops]
        #expect(
            action(sso, among: all) == ProfileAction(kind: .login, profile: "dev-sso", command: "credd login corp", deadline: epoch + 20 * minute))
        #expect(
            action(ops, among: all) == ProfileAction(kind: .login, profile: "dev-sso", command: "credd login corp", deadline: epoch + 10 * minute))
        #expect(action(ops, among: all)?.reason(for: "ops") == "needs an IAM Identity Center sign-in for dev-sso: run `credd login corp`")
        #expect(
            sso.journalMessage(action: action(sso, among: all), now: epoch)
                == #"dev-sso: needs an IAM Identity Center sign-in; run "credd login corp"; the credentials in service last until 00:20Z"#)
        #expect(
            ops.journalMessage(action: action(ops, among: all), now: epoch)
                == #"ops: needs an IAM Identity Center sign-in for dev-sso; run "credd login corp"; the credentials in service last until 00:10Z"#)
        #expect(
            sso.journalMessage(action: nil, now: epoch) == #"dev-sso: needs an IAM Identity Center sign-in; run "credd login corp""#)
        #expect(
            ProfileStatus.summary(of: all, now: epoch, secondsFromGMT: utc) == "1 retrying, 1 needs sign-in (dev-sso: credd login corp)")
    }

    @Test(
        "fresh, renewing and self-healing profiles need nothing; a source cycle ends",
        arguments: [
            ProfileState.fresh, .refreshing, .retrying, .expired, .pending,
        ])
    func nothingToDo(state: ProfileState) {
        let mfa = status("mfa", .needsMFA)
        // Fresh and refreshing need nothing even on a source that waits: they have what they need.
        let dev = status("dev", state, source: state == .fresh || state == .refreshing ? "mfa" : "ops")
        let ops = status("ops", .retrying, source: "dev")
        #expect(action(dev, among: [mfa, dev, ops]) == nil)
    }

    @Test("STATUS= names the profiles that need the user with the command, and config errors")
    func summaryNamesProfilesAndCommands() {
        let statuses = [
            status("dev", .fresh, next: 14 * hour + 5 * minute),
            status("mfa", .needsMFA),
            status("ops", .error, error: "AccessDenied"),
        ]
        #expect(
            ProfileStatus.summary(of: statuses, now: epoch, secondsFromGMT: utc)
                == "1 fresh, 1 needs MFA (mfa: credd login mfa), 1 failed (ops: credd refresh ops); next refresh 14:05")
        let errors = ["/home/a/.config/credd/config:12: [profile x] key 'role_arn': not an ARN"]
        #expect(
            ProfileStatus.summary(of: [statuses[0]], configErrors: errors, now: epoch, secondsFromGMT: utc)
                == "config error in /home/a/.config/credd/config:12: [profile x] key 'role_arn': not an ARN; 1 fresh; next refresh 14:05")
        #expect(
            ProfileStatus.summary(of: [], configErrors: errors + ["/c:1: bad"], now: epoch, secondsFromGMT: utc)
                == "2 config errors, the first in /home/a/.config/credd/config:12: [profile x] key 'role_arn': not an ARN; no profiles")
        let many = (1...5).map { status("m\($0)", .needsMFA) }
        #expect(
            ProfileStatus.summary(of: many, now: epoch, secondsFromGMT: utc)
                == "5 needs MFA (m1: credd login m1, m2: credd login m2, m3: credd login m3, …)")
    }

    @Test(
        "journal messages name the profile and, when the user must act, the command",
        arguments: [
            (ProfileState.fresh, nil as String?, "dev: fresh until 01:00Z"),
            (.needsMFA, "mfa", #"dev: needs an MFA code for mfa; run "credd login mfa"; the session in service ends 01:00Z"#),
            (.error, nil, #"dev: failed: AccessDenied (request id 2); run "credd refresh dev" to retry now"#),
            (.retrying, nil, "dev: retrying at 00:05Z: AccessDenied (request id 2)"),
            (.refreshing, nil, "dev: refreshing"),
        ])
    func journalMessages(state: ProfileState, waitsOn: String?, expected: String) {
        let dev = status(
            "dev", state == .needsMFA ? .retrying : state, source: waitsOn, expiresIn: hour, next: 5 * minute,
            error: state == .fresh || state == .refreshing ? nil : "AccessDenied (request id 2)")
        let all = [dev] + (waitsOn.map { [status($0, .needsMFA)] } ?? [])
        #expect(dev.journalMessage(action: action(dev, among: all), now: epoch) == expected)
    }

    @Test("the journal message of a profile waiting for its own code, with no session and on another day")
    func journalMessageForTheMFAProfile() {
        let mfa = status("mfa", .needsMFA)
        #expect(
            mfa.journalMessage(action: action(mfa, among: [mfa]), now: epoch)
                == #"mfa: needs an MFA code; run "credd login mfa"; no session in service"#)
        let tomorrow = status("dev", .fresh, expiresIn: 25 * hour)
        #expect(tomorrow.journalMessage(action: nil, now: epoch) == "dev: fresh until 2026-01-02 01:00Z")
    }

    @Test("the engine logs a message that names the profile and the command, and no secret")
    func engineLogsTheCommand() async throws {
        let harness = EngineHarness(
            [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            handlers: [
                "mfa": FakeRenewer.always(.succeed(lifetime: 12 * hour)),
                "dev": FakeRenewer.always(.succeed(lifetime: hour)),
            ])
        let running = harness.start()
        try await harness.settle()
        _ = await harness.engine.login(profile: "mfa", code: Secret("123456"))
        try await harness.settle()
        running.cancel()
        await running.value

        let messages = harness.logs.entries.map { "\($0.message)" }
        #expect(messages.contains(#"mfa: needs an MFA code; run "credd login mfa"; no session in service"#), "\(messages)")
        #expect(messages.contains(#"dev: needs an MFA code for mfa; run "credd login mfa"; no session in service"#), "\(messages)")
        #expect(messages.contains("mfa: fresh until 12:00Z"), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("dev: fresh until ") }, "\(messages)")
        for message in messages {
            #expect(!message.contains("123456") && !message.contains(fakeSecretValue) && !message.contains(fakeTokenValue))
        }
    }
}
