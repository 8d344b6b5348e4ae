import CreddConfig
import CreddCore
import CreddEndpoint
import CreddRefresh

/// What the endpoint serves: the engine's current credentials for a managed profile.
struct EngineCredentialSource: EndpointCredentialSource {
    let engine: RefreshEngine
    let profiles: ProfileDirectory
    let wallClock: any WallClock

    func lookup(profile name: String) async -> EndpointLookup {
        guard let profile = profiles.profile(named: name) else { return .unknown }
        let status = await engine.statuses().first { $0.name == name }
        guard let credentials = await engine.credentials(for: name) else {
            let why = status.map { "state \($0.state.rawValue)" + ($0.lastError.map { ": \($0)" } ?? "") } ?? "state pending"
            return .unavailable(reason: "profile \(name) has no valid credentials (\(why))")
        }
        return .available(credentials, roleArn: profile.roleArn, lastUpdated: status?.lastRefresh ?? wallClock.now())
    }
}
