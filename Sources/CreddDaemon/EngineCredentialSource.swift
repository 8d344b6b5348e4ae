import CreddConfig
import CreddCore
import CreddEndpoint
import CreddRefresh
import FoundationEssentials
import Synchronization

/// What the endpoint serves: the credentials the engine publishes, kept rendered in memory so
/// that requests are answered on the event loop without asking the engine's actor.
///
/// Fed like the credentials file, by the engine's batches (`apply`), and by its status changes
/// (`record`), which explain why a profile has nothing to serve. So renewed credentials reach the
/// endpoint with their batch, as they reach the file (at most the engine's `maximumBatchDelay`
/// late when renewals overlap); the previous ones, still valid, are served until then.
final class EngineCredentialSource: EndpointCredentialSource, CredentialSink {
    private struct State {
        var published: [String: PublishedCredentials] = [:]
        var statuses: [String: ProfileStatus] = [:]
    }

    private let profiles: ProfileDirectory
    private let wallClock: any WallClock
    private let state = Mutex(State())

    init(profiles: ProfileDirectory, wallClock: any WallClock) {
        self.profiles = profiles
        self.wallClock = wallClock
    }

    func lookup(profile name: String) -> EndpointLookup {
        guard profiles.manages(name) else { return .unknown }
        let (published, status) = state.withLock { ($0.published[name], $0.statuses[name]) }
        if let published { return .available(published) }
        return .unavailable(reason: RefreshEngine.unavailableReason(for: name, status: status))
    }

    func apply(_ batch: [CredentialUpdate]) async {
        // IMDS's LastUpdated: when the credentials were put in service.
        let now = wallClock.now()
        var rendered: [String: PublishedCredentials?] = [:]
        for update in batch {
            switch update {
            case .published(let name, let credentials):
                rendered[name] = PublishedCredentials(credentials, roleArn: profiles.profile(named: name)?.roleArn, lastUpdated: now)
            case .withdrawn(let name, _):
                rendered[name] = .some(nil)
            }
        }
        state.withLock { state in
            for (name, published) in rendered { state.published[name] = published }
        }
    }

    /// Keeps the profile's last state and error, the reason given when it has nothing to serve.
    func record(_ status: ProfileStatus) {
        state.withLock { $0.statuses[status.name] = status }
    }
}

extension RefreshEngine {
    /// Why `name` has nothing to serve, for `credd credential-process` and the endpoint:
    /// its state and last error, never a secret.
    func unavailableReason(for name: String) -> String {
        Self.unavailableReason(for: name, status: statuses().first { $0.name == name })
    }

    static func unavailableReason(for name: String, status: ProfileStatus?) -> String {
        let why = status.map { "state \($0.state.rawValue)" + ($0.lastError.map { ": \($0)" } ?? "") } ?? "state pending"
        return "profile \(name) has no valid credentials (\(why))"
    }
}
