import CreddConfig
import CreddSSO

/// What `credd login NAME` and `credd sso profiles NAME` mean by NAME: an `[sso-session NAME]`
/// (credd's config or `~/.aws/config`), or a profile that signs in through one.
struct SSOSessionLookup {
    enum Outcome {
        case sso(SSOSession)
        /// No session and no SSO profile of that name: an MFA profile, or a typo.
        case notSSO
        case invalid(String)
    }

    let configuration: LoadedConfiguration

    func resolve(_ name: String) -> Outcome {
        guard let found = configuration.ssoSession(named: name) else {
            // A broken session, or a broken profile that would have used one, says why.
            if let problem = configuration.errors.first(where: { $0.ssoSession == name || ($0.profile == name && $0.key?.hasPrefix("sso_") == true) })
            {
                return .invalid("\(problem); see credd check")
            }
            return .notSSO
        }
        if found.name == name, let profile = configuration.profile(named: name), profile.ssoSession == nil {
            return .invalid(
                "'\(name)' names both an [sso-session] and a profile that does not sign in through Identity Center in \(configuration.settings.configFile); rename one"
            )
        }
        return .sso(SSOSession(name: found.name, startURL: found.startURL, region: found.region, scopes: found.registrationScopes))
    }

    /// The profile of credd's config that takes `roleName` in `accountId` from session `sessionName`.
    func existingProfile(sessionName: String, accountId: String, roleName: String) -> String? {
        configuration.profiles.first {
            $0.ssoSession?.name == sessionName && $0.kind == .sso(accountId: accountId, roleName: roleName)
        }?.name
    }
}
