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
        guard let credentials = await engine.credentials(for: name) else {
            return .unavailable(reason: await engine.unavailableReason(for: name))
        }
        let status = await engine.statuses().first { $0.name == name }
        return .available(credentials, roleArn: profile.roleArn, lastUpdated: status?.lastRefresh ?? wallClock.now())
    }
}

extension RefreshEngine {
    /// Why `name` has nothing to serve, for `credd credential-process` and the endpoint:
    /// its state and last error, never a secret.
    func unavailableReason(for name: String) -> String {
        let status = statuses().first { $0.name == name }
        let why = status.map { "state \($0.state.rawValue)" + ($0.lastError.map { ": \($0)" } ?? "") } ?? "state pending"
        return "profile \(name) has no valid credentials (\(why))"
    }
}
