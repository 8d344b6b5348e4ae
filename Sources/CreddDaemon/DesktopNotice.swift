import CreddRefresh
import FoundationEssentials

/// One desktop notification credd wants shown: for the profile a user must act on. Holds no secrets.
struct DesktopNotice: Sendable, Hashable {
    /// The profile the user acts on (the one waiting, not its dependents), or `rotation SECTION`
    /// for a failed key rotation: one notification each.
    let profile: String
    let summary: String
    let body: String
    /// Offers the "Enter code" button, which runs `credd login PROFILE` or `notify_action_command`.
    let offersCodeEntry: Bool
    /// Offers the "Sign in" button for this IAM Identity Center session (what `credd login`
    /// takes), which runs `credd login SESSION` or `notify_action_command`.
    let signInSession: String?
    /// Offers the "Unlock" button, which asks the Secret Service to unlock the keyring: the
    /// desktop shows its own password prompt.
    let offersUnlock: Bool
    /// Stays until withdrawn.
    let critical: Bool

    init(
        profile: String, summary: String, body: String, offersCodeEntry: Bool, signInSession: String? = nil, offersUnlock: Bool = false,
        critical: Bool
    ) {
        self.profile = profile
        self.summary = summary
        self.body = body
        self.offersCodeEntry = offersCodeEntry
        self.signInSession = signInSession
        self.offersUnlock = offersUnlock
        self.critical = critical
    }

    /// The notices `statuses` call for: a profile that will need an MFA code (from the lead
    /// time before its session ends), one whose renewals keep failing with nothing left in
    /// service, one that failed in a way that needs a change while nothing is in service, and a key
    /// rotation that failed (`failedRotations`: section → why).
    /// Keyed by the profile the user acts on.
    static func wanted(
        by statuses: [ProfileStatus], failedRotations: [String: String] = [:], now: Date, secondsFromGMT: (Date) -> Int
    ) -> [String: DesktopNotice] {
        let byName = Dictionary(statuses.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var notices: [String: DesktopNotice] = [:]
        for status in statuses {
            if let action = ProfileAction.needed(by: status, lookup: { byName[$0] }) {
                guard action.profile == status.name, let notice = notice(for: action, status: status, now: now, secondsFromGMT: secondsFromGMT) else {
                    continue
                }
                notices[action.profile] = notice
            } else if status.state == .expired {
                notices[status.name] = DesktopNotice(
                    profile: status.name, summary: "AWS profile \(status.name) has no valid credentials",
                    body: "Renewals keep failing: \(status.lastError ?? "no answer from STS"). credd keeps retrying.",
                    offersCodeEntry: false, critical: false)
            }
        }
        // Keyed by section, which no profile name can clash with ("rotation " has a space).
        for (section, error) in failedRotations {
            notices["rotation \(section)"] = DesktopNotice(
                profile: "rotation \(section)", summary: "Rotating the access key in [\(section)] failed",
                body: "\(error). credd retries; `credd status` shows the rotation.", offersCodeEntry: false, critical: false)
        }
        return notices
    }

    /// What "Enter code" runs for `profile`: `notify_action_command` with the profile appended;
    /// else, with a graphical dialog (`hasDialog`: zenity or kdialog installed), `credd login
    /// --dialog -- PROFILE`; else `credd login -- PROFILE` in a terminal. Under systemd the command
    /// starts as a transient unit of the user manager, outside credd.service's sandbox (its
    /// private /tmp hides the X11 socket, and its system-call filter would bind the terminal too).
    /// The name is always one argument (no shell), after `--` for credd; a name starting with `-`,
    /// which the configured command would take for an option, gets credd's own prompt.
    static func codeEntryCommand(for profile: String, configured: [String]?, hasDialog: Bool, credd: String, underSystemd: Bool) -> [String] {
        let command =
            safelyConfigured(configured, name: profile).map { $0 + [profile] }
            ?? (hasDialog ? [credd, "login", "--dialog", "--", profile] : ["x-terminal-emulator", "-e", credd, "login", "--", profile])
        return userUnit(command, profile: profile, underSystemd: underSystemd)
    }

    /// What "Sign in" runs for `profile`, whose IAM Identity Center session is `session`:
    /// `notify_action_command` with the session appended, or `credd login -- SESSION`, which
    /// needs no terminal (it opens the browser itself). Started like "Enter code".
    static func signInCommand(session: String, profile: String, configured: [String]?, credd: String, underSystemd: Bool) -> [String] {
        let command = safelyConfigured(configured, name: session).map { $0 + [session] } ?? [credd, "login", "--", session]
        return userUnit(command, profile: profile, underSystemd: underSystemd)
    }

    /// The configured command, unless `name` would reach it as an option.
    private static func safelyConfigured(_ configured: [String]?, name: String) -> [String]? {
        name.hasPrefix("-") ? nil : configured
    }

    /// The user manager expands `$NAME` and `${NAME}` in a transient service's arguments, so a
    /// `$` in a name is doubled there to reach the command as written.
    private static func userUnit(_ command: [String], profile: String, underSystemd: Bool) -> [String] {
        guard underSystemd, let program = command.first else { return command }
        let arguments = command.dropFirst().map { $0.replacing("$", with: "$$") }
        return ["systemd-run", "--user", "--collect", "--quiet", "--setenv=CREDD_PROFILE=\(profile)", "--", program] + arguments
    }

    /// The notice for one kind of action; a new kind of action needs one case here.
    private static func notice(for action: ProfileAction, status: ProfileStatus, now: Date, secondsFromGMT: (Date) -> Int) -> DesktopNotice? {
        let until =
            action.deadline.map { "Its session ends \(ProfileStatus.clockTime($0, now: now, secondsFromGMT: secondsFromGMT))" }
            ?? "It has no session in service"
        switch action.kind {
        case .mfaCode:
            return DesktopNotice(
                profile: action.profile, summary: "AWS profile \(action.profile) needs an MFA code",
                body: "\(until). Enter a code, or run `\(action.command)`.", offersCodeEntry: true, critical: true)
        case .retry:
            // Worth an interruption only once nothing valid is left.
            guard action.deadline.map({ $0 <= now }) ?? true else { return nil }
            return DesktopNotice(
                profile: action.profile, summary: "AWS profile \(action.profile) cannot renew",
                body: "\(status.lastError ?? "renewal failed"). Once the cause is fixed, run `\(action.command)`.",
                offersCodeEntry: false, critical: false)
        case .login:
            return DesktopNotice(
                profile: action.profile, summary: "AWS profile \(action.profile) needs an IAM Identity Center sign-in",
                body: "\(until). Sign in, or run `\(action.command)`.", offersCodeEntry: false,
                signInSession: status.signInName ?? action.profile, critical: true)
        case .unlock:
            return DesktopNotice(
                profile: action.profile, summary: "AWS profile \(action.profile) needs your keyring unlocked",
                body: "\(until). Its long-term keys are in a locked keyring: unlock it, and credd renews at once.", offersCodeEntry: false,
                offersUnlock: true, critical: true)
        case .fixConfig:
            return nil
        }
    }
}

/// Which notices are on the desktop and what to do next, as a value: hand it the notices wanted
/// now, get back what to show and withdraw. One notification per profile, replaced in place;
/// a profile's notification changes at most once per `minimumInterval` (withdrawals are never held back).
struct DesktopNoticeBoard: Sendable {
    enum Effect: Sendable, Hashable {
        /// Show `notice`, replacing notification `replacing` (0: none).
        case show(DesktopNotice, replacing: UInt32)
        /// Withdraw notification `id`.
        case close(UInt32)
    }

    private struct Shown: Sendable {
        /// `nil` when the server did not take the last change: sent again at the next update.
        var notice: DesktopNotice?
        var id: UInt32
    }

    let minimumInterval: TimeInterval
    private var shown: [String: Shown] = [:]
    private var lastSent: [String: Date] = [:]
    /// Wanted but held back by the rate limit.
    private var deferred: [String: DesktopNotice] = [:]

    init(minimumInterval: TimeInterval = 5 * 60) {
        self.minimumInterval = minimumInterval
    }

    /// What to change so that the desktop shows `wanted` at `now`.
    mutating func update(wanted: [String: DesktopNotice], now: Date) -> [Effect] {
        var effects: [Effect] = []
        for (profile, current) in shown.sorted(by: { $0.key < $1.key }) where wanted[profile] == nil {
            effects.append(.close(current.id))
            shown[profile] = nil
        }
        deferred = deferred.filter { wanted[$0.key] != nil }
        for (profile, notice) in wanted.sorted(by: { $0.key < $1.key }) where shown[profile]?.notice != notice {
            if let last = lastSent[profile], now < last.addingTimeInterval(minimumInterval) {
                deferred[profile] = notice
                continue
            }
            deferred[profile] = nil
            lastSent[profile] = now
            effects.append(.show(notice, replacing: shown[profile]?.id ?? 0))
            // The id stays 0 until the server answers (`shown(_:id:)`).
            shown[profile] = Shown(notice: notice, id: shown[profile]?.id ?? 0)
        }
        return effects
    }

    /// The server showed `notice` as notification `id`.
    mutating func shown(_ notice: DesktopNotice, id: UInt32) {
        guard shown[notice.profile]?.notice == notice else { return }
        shown[notice.profile]?.id = id
    }

    /// The server did not show `notice`: it is sent again at the next update, replacing what the
    /// profile showed before, if anything.
    mutating func forget(_ notice: DesktopNotice) {
        guard let current = shown[notice.profile], current.notice == notice else { return }
        shown[notice.profile] = current.id == 0 ? nil : Shown(notice: nil, id: current.id)
        lastSent[notice.profile] = nil
    }

    /// The notice shown as notification `id`.
    func notice(shownAs id: UInt32) -> DesktopNotice? {
        guard id != 0 else { return nil }
        return shown.values.first { $0.id == id }?.notice
    }

    /// When a held-back notice may be shown; `nil` when none waits.
    var nextDue: Date? {
        deferred.keys.compactMap { lastSent[$0]?.addingTimeInterval(minimumInterval) }.min()
    }
}
