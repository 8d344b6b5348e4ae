import CreddConfig
import CreddEndpoint
import CreddRefresh

/// What the endpoint serves: the engine's current credentials for a managed profile.
struct EngineCredentialSource: EndpointCredentialSource {
    let engine: RefreshEngine
    let profiles: ProfileDirectory

    func lookup(profile name: String) async -> EndpointLookup {
        guard let profile = profiles.profile(named: name) else { return .unknown }
        guard let credentials = await engine.credentials(for: name) else {
            let status = await engine.statuses().first { $0.name == name }
            return .unavailable(reason: "profile \(name) has no valid credentials (state \(status?.state.rawValue ?? "pending"))")
        }
        return .available(credentials, roleArn: profile.roleArn, lastUpdated: status?.lastRefresh ?? wallClock.now())
    }
}
