import FoundationEssentials

/// What the user must do for a profile that cannot renew by itself: the command to run, and
/// until when the credentials in service last. `credd status`, its JSON, the journal and
/// systemd's `STATUS=` all say it the same way. Holds no secrets.
public struct ProfileAction: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The profile, or a source in its chain, waits for an MFA code from `credd login`.
        case mfaCode = "mfa_code"
        /// The profile, or a source in its chain, failed in a way that does not fix itself soon;
        /// once the cause is fixed (often on the AWS side), `credd refresh` retries at once.
        case retry
        /// The profile's definition in the config has errors: it runs on its last good one.
        case fixConfig = "fix_config"
        /// The profile, or a source in its chain, renews with an IAM Identity Center session
        /// whose token cannot be refreshed: `credd login SESSION` (or `aws sso login`) signs in.
        case login
        /// The profile, or a source in its chain, renews with long-term keys in a locked
        /// keyring: `credd keys unlock` (or the desktop's keyring tool) shows the desktop's own
        /// prompt for its password.
        case unlock
    }

    public let kind: Kind
    /// The profile the profile waits on (itself, or a source in its chain).
    public let profile: String
    /// The one command that unblocks it, e.g. `credd login mfa`.
    public let command: String
    /// When the credentials in service expire; `nil` when none are in service.
    public let deadline: Date?

    public init(kind: Kind, profile: String, command: String, deadline: Date?) {
        self.kind = kind
        self.profile = profile
        self.command = command
        self.deadline = deadline
    }

    /// What `status` waits on: the nearest profile of its chain (itself first) that needs an
    /// MFA code or a sign-in, or failed; `nil` when it is fresh, renewing, or will heal by itself.
    /// `lookup` finds a profile's status by name.
    public static func needed(by status: ProfileStatus, lookup: (String) -> ProfileStatus?) -> ProfileAction? {
        switch status.state {
        case .fresh, .refreshing:
            return nil
        case .pending, .retrying, .needsMFA, .needsLogin, .needsUnlock, .expired, .error:
            break
        }
        var current = status
        var visited: Set<String> = [status.name]
        while true {
            switch current.state {
            case .needsMFA:
                return ProfileAction(kind: .mfaCode, profile: current.name, command: "credd login \(current.name)", deadline: status.expiration)
            case .needsLogin:
                let session = current.signInName ?? current.name
                return ProfileAction(kind: .login, profile: current.name, command: "credd login \(session)", deadline: status.expiration)
            case .needsUnlock:
                return ProfileAction(kind: .unlock, profile: current.name, command: "credd keys unlock", deadline: status.expiration)
            case .error:
                return ProfileAction(kind: .retry, profile: current.name, command: "credd refresh \(current.name)", deadline: status.expiration)
            case .pending, .fresh, .refreshing, .retrying, .expired:
                // A cycle is a config error, reported there; it must not loop here.
                guard let source = current.sourceProfile, visited.insert(source).inserted, let next = lookup(source) else {
                    return nil
                }
                current = next
            }
        }
    }

    /// The config has errors in `profile`'s definition: `credd check` shows them.
    public static func fixConfig(_ profile: String, deadline: Date?) -> ProfileAction {
        ProfileAction(kind: .fixConfig, profile: profile, command: "credd check", deadline: deadline)
    }

    /// Why `name` (whose action this is) cannot renew, and what to run, e.g.
    /// `needs an MFA code for mfa: run `credd login mfa``.
    public func reason(for name: String) -> String {
        let chained = profile == name ? "" : " for \(profile)"
        switch kind {
        case .mfaCode:
            return "needs an MFA code\(chained): run `\(command)`"
        case .retry:
            let failed = profile == name ? "renewal failed" : "its source \(profile) failed"
            return "\(failed); once the cause is fixed, run `\(command)` to retry now"
        case .fixConfig:
            return "its config has errors (it runs on its last good definition): run `\(command)`"
        case .login:
            return "needs an IAM Identity Center sign-in\(chained): run `\(command)`"
        case .unlock:
            return "its long-term keys are in a locked keyring\(chained): run `\(command)` or unlock it on your desktop"
        }
    }
}
