/// The config blocks `credd sso profiles SESSION` prints: one `[profile <account>-<role>]` per
/// role the signed-in user can take, pointing at the session.
public struct SSOProfileBlock: Sendable, Hashable {
    /// The profile name, without the `profile ` prefix of its section header.
    public let name: String
    public let accountId: String
    public let roleName: String

    /// The section's entries, in the order they are written.
    public func entries(sessionName: String) -> [(key: String, value: String)] {
        [("sso_session", sessionName), ("sso_account_id", accountId), ("sso_role_name", roleName)]
    }

    /// The block as config text.
    public func text(sessionName: String) -> String {
        var lines = ["[profile \(name)]"]
        lines += entries(sessionName: sessionName).map { "\($0.key) = \($0.value)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Names the profiles for every (account, role) pair, pure: no I/O.
public enum SSOProfileCatalog {
    /// One block per role, sorted by profile name. Names are `<account name>-<role>`, sanitised;
    /// when two accounts share a name, each of their profiles gets the account id as well
    /// (`<account name>-<account id>-<role>`), so that no name is ambiguous.
    public static func blocks(accounts: [SSOAccount], roles: [String: [SSORole]]) -> [SSOProfileBlock] {
        let accountNames = accounts.map { sanitised($0.accountName ?? "") }
        var uses: [String: Int] = [:]
        for name in accountNames { uses[name, default: 0] += 1 }
        var blocks: [SSOProfileBlock] = []
        for (account, accountName) in zip(accounts, accountNames) {
            let prefix: String
            if accountName.isEmpty {
                prefix = account.accountId
            } else if uses[accountName, default: 0] > 1 {
                prefix = accountName + "-" + account.accountId
            } else {
                prefix = accountName
            }
            for role in roles[account.accountId] ?? [] {
                blocks.append(
                    SSOProfileBlock(
                        name: prefix + "-" + sanitised(role.roleName), accountId: account.accountId, roleName: role.roleName))
            }
        }
        return blocks.sorted { ($0.name, $0.accountId) < ($1.name, $1.accountId) }
    }

    /// A name every AWS tool accepts in `[profile NAME]` and on a command line: ASCII letters,
    /// digits, `.`, `_` and `-`; every other run of characters becomes one `-`, and the name
    /// neither starts nor ends with `-`.
    public static func sanitised(_ text: String) -> String {
        var result = ""
        var pendingDash = false
        for scalar in text.unicodeScalars {
            let allowed =
                scalar.isASCII
                && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "." || scalar == "_")
            if allowed {
                if pendingDash, !result.isEmpty { result += "-" }
                pendingDash = false
                result.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return result
    }
}
