import CreddConfig

/// The configuration the daemon starts with. A config file that cannot be found, read or
/// decoded, or is empty, never stops the daemon: it runs with no profiles, says why in `credd
/// status` and the log, and loads the file when it appears or changes (every place it is looked
/// for is watched).
struct StartupConfiguration {
    let configuration: LoadedConfiguration
    /// False when the config file could not be loaded: the managed sections in the credentials
    /// file then belong to profiles credd cannot see, not to removed ones, and must stay.
    let loadedConfigFile: Bool

    static func load(
        explicitPath: String?, environment: [String: String], reader: some FileReading = SystemFileReader(), keyringProfiles: Set<String> = []
    ) -> StartupConfiguration {
        let failure: ConfigError
        do {
            return StartupConfiguration(
                configuration: try ConfigLoader.load(
                    explicitPath: explicitPath, environment: environment, reader: reader, keyringProfiles: keyringProfiles),
                loadedConfigFile: true)
        } catch {
            failure = error
        }
        let candidates = ConfigLoader.candidatePaths(explicitPath: explicitPath, environment: environment).map(\.path)
        // A bare `[credd]` at the failing path gives the defaults (listen address, the AWS files'
        // paths) exactly as a real config would.
        let standInPath = failure.file.isEmpty ? candidates.first ?? "credd config" : failure.file
        let empty: LoadedConfiguration
        do {
            empty = try ConfigLoader.load(explicitPath: standInPath, environment: environment, reader: BareConfig(at: standInPath, others: reader))
        } catch {
            preconditionFailure("a bare [credd] config always loads, but: \(error)")
        }
        var watched = empty.watchedFiles
        watched += candidates.filter { !watched.contains($0) }
        return StartupConfiguration(
            configuration: LoadedConfiguration(settings: empty.settings, profiles: [], errors: [failure] + empty.errors, watchedFiles: watched),
            loadedConfigFile: false)
    }
}

/// Reads `path` as a file holding only `[credd]`, and everything else through `others`.
private struct BareConfig<Others: FileReading>: FileReading {
    let path: String
    let others: Others

    init(at path: String, others: Others) {
        self.path = path
        self.others = others
    }

    func read(_ path: String) throws(FileReadError) -> FileReadResult {
        path == self.path ? .contents(Array("[credd]\n".utf8)) : try others.read(path)
    }

    func entries(ofDirectory path: String) -> [String] {
        others.entries(ofDirectory: path)
    }
}
