import CreddCore
import FoundationEssentials

extension ProfileStatus {
    /// The one-line summary systemd shows as `STATUS=`, e.g.
    /// `3 fresh, 1 needs MFA (mfa: credd login mfa); next refresh 14:05`: the profiles that need
    /// the user are named with the command to run, and config errors come first. Times are shown
    /// in the time zone whose offset from UTC at a date is `secondsFromGMT(date)`, with the date
    /// when the next refresh is not on the same day as `now`.
    public static func summary(
        of statuses: [ProfileStatus], configErrors: [String] = [], now: Date, secondsFromGMT: (Date) -> Int
    ) -> String {
        var parts: [String] = []
        if let first = configErrors.first {
            parts.append(configErrors.count == 1 ? "config error in \(first)" : "\(configErrors.count) config errors, the first in \(first)")
        }
        guard !statuses.isEmpty else { return (parts + ["no profiles"]).joined(separator: "; ") }
        let counts = ProfileState.allCases.compactMap { state -> String? in
            let inState = statuses.filter { $0.state == state }
            guard !inState.isEmpty else { return nil }
            return "\(inState.count) \(summaryLabel(state))" + namedCommands(inState)
        }
        parts.append(counts.joined(separator: ", "))
        if let next = statuses.compactMap(\.nextRefresh).min() {
            parts.append("next refresh \(clockTime(next, now: now, secondsFromGMT: secondsFromGMT))")
        }
        return parts.joined(separator: "; ")
    }

    /// ` (mfa: credd login mfa)` for the profiles that wait on the user themselves; at most three
    /// are named, so the line stays one line.
    private static func namedCommands(_ statuses: [ProfileStatus]) -> String {
        let named = statuses.compactMap { status in
            ProfileAction.needed(by: status) { _ in nil }.map { "\(status.name): \($0.command)" }
        }
        guard !named.isEmpty else { return "" }
        return " (" + named.prefix(3).joined(separator: ", ") + (named.count > 3 ? ", …" : "") + ")"
    }

    private static func summaryLabel(_ state: ProfileState) -> String {
        switch state {
        case .pending: "pending"
        case .fresh: "fresh"
        case .refreshing: "refreshing"
        case .retrying: "retrying"
        case .needsMFA: "needs MFA"
        case .needsLogin: "needs sign-in"
        case .needsUnlock: "needs the keyring unlocked"
        case .expired: "expired"
        case .error: "failed"
        }
    }

    /// `14:05`, or `2026-01-02 01:00` when `date` is not on `now`'s day, in the time zone whose
    /// offset from UTC at a date is `secondsFromGMT(date)`.
    public static func clockTime(_ date: Date, now: Date, secondsFromGMT: (Date) -> Int) -> String {
        // An offset and RFC 3339 text rather than Foundation's Calendar: its time zones need ICU.
        func local(_ date: Date) -> String {
            AWSTimestamp.format(date.addingTimeInterval(Double(secondsFromGMT(date))))
        }
        let (dateTime, nowText) = (local(date), local(now))
        let time = String(dateTime.dropFirst(11).prefix(5))
        guard dateTime.prefix(10) != nowText.prefix(10) else { return time }
        return dateTime.prefix(10) + " " + time
    }

    /// The journal MESSAGE for this state, readable in `journalctl`'s default view: it names the
    /// profile and, when the user must act, the command (`action`, from ``ProfileAction/needed(by:lookup:)``),
    /// e.g. `mfa: needs an MFA code; run "credd login mfa"` or `dev: fresh until 17:04Z`. Times
    /// are UTC, with the date when not on `now`'s day.
    public func journalMessage(action: ProfileAction?, now: Date) -> String {
        let utc = { (_: Date) in 0 }
        func at(_ date: Date) -> String { Self.clockTime(date, now: now, secondsFromGMT: utc) + "Z" }
        let because = lastError.map { ": \($0)" } ?? ""
        if let action, action.kind == .mfaCode {
            let chained = action.profile == name ? "" : " for \(action.profile)"
            let until = expiration.map { "; the session in service ends \(at($0))" } ?? "; no session in service"
            return "\(name): needs an MFA code\(chained); run \"\(action.command)\"\(until)"
        }
        if let action, action.kind == .login {
            let chained = action.profile == name ? "" : " for \(action.profile)"
            let until = expiration.map { "; the credentials in service last until \(at($0))" } ?? "; no credentials in service"
            return "\(name): needs an IAM Identity Center sign-in\(chained); run \"\(action.command)\"\(until)"
        }
        switch state {
        case .pending, .refreshing:
            return "\(name): \(state.rawValue)"
        case .fresh:
            return "\(name): fresh" + (expiration.map { " until \(at($0))" } ?? "")
        case .needsMFA:
            return "\(name): needs an MFA code; run \"credd login \(name)\""
        case .needsLogin:
            return "\(name): needs an IAM Identity Center sign-in; run \"credd login \(signInName ?? name)\""
        case .needsUnlock:
            return "\(name): waits for the keyring holding its keys to be unlocked; run \"credd keys unlock\""
        case .error:
            let retry = action.map { "; run \"\($0.command)\" to retry now" } ?? ""
            return "\(name): failed\(because)\(retry)"
        case .retrying, .expired:
            let prefix = state == .expired ? "\(name): expired; retrying" : "\(name): retrying"
            let when = nextRefresh.map { " at \(at($0))" } ?? " when its source renews"
            let retry = action.map { "; run \"\($0.command)\" to retry now" } ?? ""
            return "\(prefix)\(when)\(because)\(retry)"
        }
    }
}
