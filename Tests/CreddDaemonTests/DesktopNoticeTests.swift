import CreddCore
import CreddPlatform
import CreddRefresh
import CreddTestSupport
import Foundation
import Testing

@testable import CreddDaemon

struct DesktopNoticeTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func utc(_: Date) -> Int { 0 }

    static func status(
        _ name: String, _ state: ProfileState, expiresIn: TimeInterval?, source: String? = nil, error: String? = nil
    ) -> ProfileStatus {
        ProfileStatus(
            name: name, state: state, expiration: expiresIn.map { now.addingTimeInterval($0) }, nextRefresh: nil, lastRefresh: nil,
            lastError: error, sourceProfile: source)
    }

    static func wanted(_ statuses: [ProfileStatus]) -> [String: DesktopNotice] {
        DesktopNotice.wanted(by: statuses, now: now, secondsFromGMT: utc)
    }

    @Test func aProfileWaitingForACodeGetsOneNoticeWithCodeEntryForItsWholeChain() throws {
        let notices = Self.wanted([
            Self.status("mfa", .needsMFA, expiresIn: 3000),
            Self.status("dev", .fresh, expiresIn: 3000, source: "mfa"),
            Self.status("ops", .retrying, expiresIn: 3000, source: "mfa"),
        ])
        #expect(Array(notices.keys) == ["mfa"])
        let notice = try #require(notices["mfa"])
        #expect(notice.offersCodeEntry && notice.critical)
        #expect(notice.summary == "AWS profile mfa needs an MFA code")
        #expect(notice.body.contains("credd login mfa"), "\(notice.body)")
        #expect(notice.body.contains("ends"), "\(notice.body)")
    }

    @Test func keysInALockedKeyringGetOneCriticalNoticeForTheChain() throws {
        let notices = Self.wanted([
            Self.status("mfa", .needsUnlock, expiresIn: 3000), Self.status("dev", .retrying, expiresIn: 3000, source: "mfa"),
        ])
        #expect(Array(notices.keys) == ["mfa"])
        let notice = try #require(notices["mfa"])
        #expect(notice.summary == "AWS profile mfa needs your keyring unlocked")
        #expect(notice.critical && !notice.offersCodeEntry && notice.offersUnlock)
        #expect(notice.body.contains("unlock it"), "\(notice.body)")
    }

    @Test func failuresNotifyOnlyOnceNothingValidIsLeft() {
        #expect(Self.wanted([Self.status("dev", .error, expiresIn: 600, error: "AccessDenied")]).isEmpty)
        #expect(Self.wanted([Self.status("dev", .error, expiresIn: nil, error: "AccessDenied")])["dev"]?.body.contains("credd refresh dev") == true)
        #expect(Self.wanted([Self.status("dev", .retrying, expiresIn: 600)]).isEmpty)
        #expect(Self.wanted([Self.status("dev", .expired, expiresIn: nil, error: "no network")])["dev"]?.body.contains("no network") == true)
        #expect(Self.wanted([Self.status("dev", .fresh, expiresIn: 600), Self.status("ok", .pending, expiresIn: nil)]).isEmpty)
    }

    @Test func aFailedKeyRotationGetsANoticeOfItsOwn() throws {
        let notices = DesktopNotice.wanted(
            by: [Self.status("dev", .fresh, expiresIn: 3000)], failedRotations: ["alice-long-term": "IAM DeleteAccessKey: AccessDenied"],
            now: Self.now, secondsFromGMT: Self.utc)
        let notice = try #require(notices["rotation alice-long-term"])
        #expect(notice.summary == "Rotating the access key in [alice-long-term] failed")
        #expect(notice.body.hasPrefix("IAM DeleteAccessKey: AccessDenied."))
        #expect(!notice.offersCodeEntry)
    }

    @Test func aProfileWaitingForASignInGetsASignInButtonForItsSessionAndItsDependentsNone() throws {
        let sso = ProfileStatus(
            name: "dev-sso", state: .needsLogin, expiration: Self.now.addingTimeInterval(1200), nextRefresh: nil, lastRefresh: nil,
            lastError: "needs an IAM Identity Center sign-in for corp", sourceProfile: nil, signInName: "corp")
        let notices = Self.wanted([sso, Self.status("ops", .retrying, expiresIn: nil, source: "dev-sso")])
        #expect(Array(notices.keys) == ["dev-sso"])
        let notice = try #require(notices["dev-sso"])
        #expect(notice.signInSession == "corp" && !notice.offersCodeEntry && notice.critical)
        #expect(notice.summary == "AWS profile dev-sso needs an IAM Identity Center sign-in")
        #expect(notice.body.contains("credd login corp") && notice.body.contains("ends 08:20"), "\(notice.body)")
        #expect(Self.wanted([Self.status("mfa", .needsMFA, expiresIn: 3000)])["mfa"]?.signInSession == nil)
    }

    @Test func signInRunsTheConfiguredCommandOrCreddLoginOfTheSessionWithoutATerminal() {
        #expect(
            DesktopNotice.signInCommand(session: "corp", profile: "dev-sso", configured: ["my-prompt"], credd: "/usr/bin/credd", underSystemd: false)
                == ["my-prompt", "corp"])
        #expect(
            DesktopNotice.signInCommand(session: "corp", profile: "dev-sso", configured: nil, credd: "/usr/bin/credd", underSystemd: false)
                == ["/usr/bin/credd", "login", "--", "corp"])
        #expect(
            DesktopNotice.signInCommand(session: "corp", profile: "dev-sso", configured: nil, credd: "/usr/bin/credd", underSystemd: true)
                == [
                    "systemd-run", "--user", "--collect", "--quiet", "--setenv=CREDD_PROFILE=dev-sso", "--", "/usr/bin/credd", "login", "--", "corp",
                ])
    }

    static let code = DesktopNotice(profile: "mfa", summary: "code", body: "b", offersCodeEntry: true, critical: true)

    @Test func oneNotificationPerProfileReplacedInPlaceAndWithdrawnWhenResolved() {
        var board = DesktopNoticeBoard(minimumInterval: 300)
        #expect(board.update(wanted: ["mfa": Self.code], now: Self.now) == [.show(Self.code, replacing: 0)])
        board.shown(Self.code, id: 7)
        #expect(board.notice(shownAs: 7)?.profile == "mfa")
        #expect(board.update(wanted: ["mfa": Self.code], now: Self.now.addingTimeInterval(1)).isEmpty, "the same notice is not sent again")
        let later = DesktopNotice(profile: "mfa", summary: "code", body: "later", offersCodeEntry: true, critical: true)
        #expect(board.update(wanted: ["mfa": later], now: Self.now.addingTimeInterval(400)) == [.show(later, replacing: 7)])
        board.shown(later, id: 7)
        #expect(board.update(wanted: [:], now: Self.now.addingTimeInterval(401)) == [.close(7)])
        #expect(board.notice(shownAs: 7) == nil)
    }

    @Test func changesAreRateLimitedButWithdrawalsAreNot() {
        var board = DesktopNoticeBoard(minimumInterval: 300)
        _ = board.update(wanted: ["mfa": Self.code], now: Self.now)
        board.shown(Self.code, id: 3)
        let changed = DesktopNotice(profile: "mfa", summary: "code", body: "changed", offersCodeEntry: true, critical: true)
        #expect(board.update(wanted: ["mfa": changed], now: Self.now.addingTimeInterval(10)).isEmpty)
        #expect(board.nextDue == Self.now.addingTimeInterval(300))
        #expect(board.update(wanted: ["mfa": changed], now: Self.now.addingTimeInterval(300)) == [.show(changed, replacing: 3)])
        #expect(board.nextDue == nil)
        #expect(board.update(wanted: [:], now: Self.now.addingTimeInterval(301)) == [.close(3)])
        // Coming back at once is held back too: a flapping profile does not flash.
        #expect(board.update(wanted: ["mfa": Self.code], now: Self.now.addingTimeInterval(302)).isEmpty)
        #expect(board.update(wanted: [:], now: Self.now.addingTimeInterval(303)).isEmpty)
        #expect(board.nextDue == nil, "a held-back notice that is no longer wanted is dropped")
    }

    @Test func aNoticeTheServerDidNotTakeIsSentAgainAtTheNextUpdate() {
        var board = DesktopNoticeBoard(minimumInterval: 300)
        #expect(board.update(wanted: ["mfa": Self.code], now: Self.now) == [.show(Self.code, replacing: 0)])
        board.forget(Self.code)
        #expect(board.update(wanted: ["mfa": Self.code], now: Self.now.addingTimeInterval(1)) == [.show(Self.code, replacing: 0)])
        board.shown(Self.code, id: 4)
        let changed = DesktopNotice(profile: "mfa", summary: "code", body: "changed", offersCodeEntry: true, critical: true)
        #expect(board.update(wanted: ["mfa": changed], now: Self.now.addingTimeInterval(400)) == [.show(changed, replacing: 4)])
        board.forget(changed)
        // Still replacing the notification on the desktop, which is withdrawn if no longer wanted.
        #expect(board.update(wanted: ["mfa": changed], now: Self.now.addingTimeInterval(401)) == [.show(changed, replacing: 4)])
        board.forget(changed)
        #expect(board.update(wanted: [:], now: Self.now.addingTimeInterval(402)) == [.close(4)])
    }

    @Test func enterCodeRunsTheConfiguredCommandOrADialogOrCreddLoginInATerminalOutsideTheSandbox() {
        for hasDialog in [false, true] {
            #expect(
                DesktopNotice.codeEntryCommand(
                    for: "mfa", configured: ["zenity-prompt", "--x"], hasDialog: hasDialog, credd: "/usr/bin/credd", underSystemd: false)
                    == ["zenity-prompt", "--x", "mfa"])
        }
        #expect(
            DesktopNotice.codeEntryCommand(for: "mfa", configured: nil, hasDialog: false, credd: "/usr/bin/credd", underSystemd: false)
                == ["x-terminal-emulator", "-e", "/usr/bin/credd", "login", "--", "mfa"])
        #expect(
            DesktopNotice.codeEntryCommand(for: "mfa", configured: nil, hasDialog: true, credd: "/usr/bin/credd", underSystemd: false)
                == ["/usr/bin/credd", "login", "--dialog", "--", "mfa"])
        #expect(
            DesktopNotice.codeEntryCommand(for: "mfa", configured: nil, hasDialog: false, credd: "/usr/bin/credd", underSystemd: true)
                == [
                    "systemd-run", "--user", "--collect", "--quiet", "--setenv=CREDD_PROFILE=mfa", "--", "x-terminal-emulator", "-e",
                    "/usr/bin/credd", "login", "--", "mfa",
                ])
    }

    @Test(arguments: [([String](), CodeDialogProgram?.none), (["zenity", "kdialog"], .zenity), (["kdialog"], .kdialog)])
    func theDialogIsWhicheverIsInstalled(installed: [String], expected: CodeDialogProgram?) throws {
        let bin = try TemporaryDirectory(prefix: "credd-dialogs")
        for name in installed { _ = try bin.write(name, "#!/bin/sh\n", mode: 0o755) }
        #expect(CodeDialogProgram.find(environment: ["PATH": bin.path]) == expected)
        // KDE prefers its own.
        let onKDE = CodeDialogProgram.find(environment: ["PATH": bin.path, "XDG_CURRENT_DESKTOP": "KDE"])
        #expect(onKDE == (installed.contains("kdialog") ? .kdialog : expected))
    }

    /// Names are one argument each, never through a shell; one that starts with `-` would be an
    /// option to the configured command, so it gets credd's own prompt, where `--` ends the options.
    @Test(arguments: ["--config=/tmp/evil", "-rf", "a; touch /tmp/pwned", "$(id)", "x y\nz"])
    func hostileNamesStayOneArgumentAndNeverAnOption(name: String) {
        let entry = DesktopNotice.codeEntryCommand(
            for: name, configured: ["my-prompt", "--x"], hasDialog: false, credd: "/usr/bin/credd", underSystemd: true)
        let signIn = DesktopNotice.signInCommand(
            session: name, profile: name, configured: ["my-prompt"], credd: "/usr/bin/credd", underSystemd: false)
        if name.hasPrefix("-") {
            #expect(
                entry == [
                    "systemd-run", "--user", "--collect", "--quiet", "--setenv=CREDD_PROFILE=\(name)", "--", "x-terminal-emulator", "-e",
                    "/usr/bin/credd", "login", "--", name,
                ])
            #expect(signIn == ["/usr/bin/credd", "login", "--", name])
        } else {
            // The user manager turns `$$` back into `$`.
            #expect(entry.suffix(3) == ["my-prompt", "--x", name.replacing("$", with: "$$")])
            #expect(entry.contains("--setenv=CREDD_PROFILE=\(name)"))
            #expect(signIn == ["my-prompt", name])
        }
    }
}
