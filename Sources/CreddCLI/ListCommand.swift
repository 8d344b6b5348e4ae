import ArgumentParser
import CreddConfig
import CreddControl
import CreddCore
import FoundationEssentials

struct ListProfiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the config's profiles: kind, source, region and the daemon's state.",
        discussion: """
            Reads the config as `credd check` does, so it works without a daemon (state '-'). \
            --names prints only the names, one per line, for shell completion: it prints nothing \
            and exits 0 when no config can be read.
            """
    )

    @OptionGroup var options: ConfigOption
    @Flag(help: "Print only the profile names, one per line.") var names = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        // Completion (--names) never waits for the keyring: the names do not depend on it.
        let keyringProfiles = names ? [] : await Keys.storedProfiles(environment)
        let loaded = Result { () throws(ConfigError) in
            try ConfigLoader.load(explicitPath: options.config, environment: environment, keyringProfiles: keyringProfiles)
        }
        if names {
            // Completion scripts call this on every <Tab>: never an error message there.
            if case let .success(configuration) = loaded {
                for name in ProfileList.names(configuration) { print(name) }
            }
            return
        }
        switch loaded {
        case let .success(configuration):
            print(ProfileList.render(configuration, states: Self.daemonStates(environment)), terminator: "")
        case let .failure(error):
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }

    /// Each profile's state as the running daemon reports it; `nil` when no daemon answers.
    private static func daemonStates(_ environment: [String: String]) -> [String: String]? {
        // A listing must not hang on a wedged daemon the way `login` may wait for STS.
        let client = ControlClient(path: RuntimePaths(environment: environment).controlSocket, timeoutSeconds: 5)
        guard let response = try? client.send(ControlRequest(command: .status)), response.ok, let document = response.status else {
            return nil
        }
        return Dictionary(document.profiles.map { ($0.name, $0.state) }, uniquingKeysWith: { first, _ in first })
    }
}

extension CompletionKind {
    /// Profile names from the config, for every argument that takes a profile.
    static var profileNames: CompletionKind { .shellCommand("credd list --names") }
}

/// `credd list` for a person: one row per profile, in config order, the broken ones last.
enum ProfileList {
    /// Every profile name the config defines, broken ones included (completion should offer them).
    static func names(_ configuration: LoadedConfiguration) -> [String] {
        ordered(configuration).map(\.name) + invalidNames(configuration)
    }

    /// `states` maps profile names to the daemon's state; `nil` (no daemon) shows `-` for all.
    static func render(_ configuration: LoadedConfiguration, states: [String: String]?) -> String {
        let invalid = invalidNames(configuration)
        let profiles = ordered(configuration)
        if profiles.isEmpty && invalid.isEmpty {
            return "no profiles in \(configuration.settings.configFile)\n"
        }
        let header = ["PROFILE", "KIND", "SOURCE", "REGION", "STATE"]
        let rows =
            profiles.map { profile in
                [profile.name, kind(profile), source(profile), profile.region ?? "-", states?[profile.name] ?? "-"]
            } + invalid.map { [$0, "-", "-", "-", "invalid"] }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        var out =
            ([header] + rows).map { cells in
                cells.enumerated().map { column, cell in column == cells.count - 1 ? cell : cell.padding(to: widths[column]) }
                    .joined(separator: "  ")
            }
            .joined(separator: "\n") + "\n"
        if !invalid.isEmpty {
            out += "\(invalid.count == 1 ? "1 profile has" : "\(invalid.count) profiles have") errors: run `credd check`\n"
        }
        return out
    }

    static func kind(_ profile: ManagedProfile) -> String {
        switch profile.kind {
        case .sessionToken: return "session"
        case .assumeRole: return "role"
        case .sso: return "sso"
        }
    }

    /// The profile whose credentials call STS, and what it holds when it is not a credd profile.
    static func source(_ profile: ManagedProfile) -> String {
        let name = profile.sourceChain.dropFirst().first ?? "-"
        switch profile.source {
        case .managed: return name
        case .staticKeys: return "\(name) (keys)"
        case .secretService: return "\(name) (keyring)"
        case .credentialProcess: return "\(name) (credential_process)"
        case let .ssoSession(session): return "sso-session \(session.displayName)"
        }
    }

    /// Loaded profiles by their line in the config (the loader keeps them in dependency order).
    private static func ordered(_ configuration: LoadedConfiguration) -> [ManagedProfile] {
        configuration.profiles.sorted { $0.location.line < $1.location.line }
    }

    /// Profiles the config names but could not load, each once, in the order of their errors.
    private static func invalidNames(_ configuration: LoadedConfiguration) -> [String] {
        var seen = Set(configuration.profiles.map(\.name))
        return configuration.errors.compactMap(\.profile).filter { seen.insert($0).inserted }
    }
}
