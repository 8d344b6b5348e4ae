import CreddConfig
import Synchronization

/// The configuration in force, shared by the renewer, the outputs and the control handler.
/// Replaced whole on reload; readers see either the old or the new one, never a mix.
final class ProfileDirectory: Sendable {
    private struct State {
        var configuration: LoadedConfiguration {
            didSet { names = Set(configuration.profiles.map(\.name)) }
        }
        /// The managed profiles' names, for the endpoint's per-request check (no search, no copy).
        var names: Set<String>
        /// Config problems to show in `credd status` (the last reload's, or why it was refused).
        var configErrors: [String]
        /// The last credentials-file problem per profile, cleared by the next good write.
        var writeErrors: [String: String] = [:]
        var rotatedKeys = RotatedKeys()

        init(configuration: LoadedConfiguration) {
            self.configuration = configuration
            self.names = Set(configuration.profiles.map(\.name))
            self.configErrors = configuration.errors.map(\.description)
        }
    }

    private let state: Mutex<State>

    init(_ configuration: LoadedConfiguration) {
        self.state = Mutex(State(configuration: configuration))
    }

    var configuration: LoadedConfiguration { state.withLock { $0.configuration } }
    var configErrors: [String] { state.withLock { $0.configErrors } }
    var rotatedKeys: RotatedKeys { state.withLock { $0.rotatedKeys } }

    func profile(named name: String) -> ManagedProfile? {
        state.withLock { $0.configuration.profile(named: name) }
    }

    /// Whether a managed profile has this name.
    func manages(_ name: String) -> Bool {
        state.withLock { $0.names.contains(name) }
    }

    func replace(with configuration: LoadedConfiguration, errors: [String]) {
        state.withLock {
            $0.configuration = configuration
            $0.configErrors = errors
        }
    }

    /// Scheduled rotation is about to rewrite the keys in `section`.
    func beginRotation(section: String) {
        state.withLock { state in
            let profiles = state.configuration.profiles
            state.rotatedKeys.begin(section: section, in: profiles)
        }
    }

    func finishRotation(section: String, fileHolds: String) {
        state.withLock { $0.rotatedKeys.finish(section: section, fileHolds: fileHolds) }
    }

    func setConfigErrors(_ errors: [String]) {
        state.withLock { $0.configErrors = errors }
    }

    func writeError(for profile: String) -> String? {
        state.withLock { $0.writeErrors[profile] }
    }

    func recordWrite(errors: [String: String], succeeded: [String]) {
        state.withLock { state in
            for name in succeeded { state.writeErrors[name] = nil }
            state.writeErrors.merge(errors) { $1 }
        }
    }
}
