import CreddConfig

/// A fake home with in-memory files, so no test touches the real `~/.aws`.
struct FakeHome {
    static let home = "/home/alice"
    static let configPath = "/home/alice/.config/credd/config"
    static let credentialsPath = "/home/alice/.aws/credentials"
    static let awsConfigPath = "/home/alice/.aws/config"

    var files: [String: String] = [:]
    var unreadable: [String: String] = [:]
    var environment: [String: String] = ["HOME": FakeHome.home]

    init(config: String, credentials: String? = nil, awsConfig: String? = nil) {
        files[Self.configPath] = config
        if let credentials { files[Self.credentialsPath] = credentials }
        if let awsConfig { files[Self.awsConfigPath] = awsConfig }
    }

    var reader: InMemoryFileReader { InMemoryFileReader(files: files, unreadable: unreadable) }

    func load(explicitPath: String? = nil, keyringProfiles: Set<String> = []) throws -> LoadedConfiguration {
        try ConfigLoader.load(explicitPath: explicitPath, environment: environment, reader: reader, keyringProfiles: keyringProfiles)
    }

    /// Long-term keys for `alice-long-term`, the usual root source. Obvious fakes.
    static let longTermCredentials = """
        [alice-long-term]
        aws_access_key_id = AKIAFAKEEXAMPLE01234
        aws_secret_access_key = FAKE-SECRET-long-term-do-not-print

        """
}

extension LoadedConfiguration {
    /// The errors of one profile.
    func errors(for profile: String) -> [ConfigError] { errors.filter { $0.profile == profile } }
}
