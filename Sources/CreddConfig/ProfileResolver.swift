import CreddCore
import CreddINI

/// Resolves each profile's `source_profile` — through other managed profiles, down to static
/// keys or a `credential_process` in the AWS files — detecting cycles and the combinations AWS
/// rejects. Profiles come out sources first; a failing profile fails alone (and its dependents).
struct ProfileResolver {
    let configFile: String
    let definitions: [String: ProfileDefinition]
    /// Every managed profile name, including those whose definition has errors.
    let managedNames: Set<String>
    let shared: AWSSharedFiles
    /// Credentials sections credd writes, and for which profile.
    let outputSections: [String: String]
    let endpoints: STSEndpointResolver

    private(set) var ordered: [ManagedProfile] = []
    private(set) var errors: [ConfigError] = []
    private var resolved: [String: ManagedProfile] = [:]
    private var failed: Set<String> = []

    init(configFile: String, definitions: [String: ProfileDefinition], managedNames: Set<String>, shared: AWSSharedFiles, outputSections: [String: String], endpoints: STSEndpointResolver) {
        self.configFile = configFile
        self.definitions = definitions
        self.managedNames = managedNames
        self.shared = shared
        self.outputSections = outputSections
        self.endpoints = endpoints
    }

    /// Resolves `names` (in file order) and everything they depend on.
    mutating func resolveAll(_ names: [String]) {
        for name in names { _ = resolve(name, visiting: []) }
    }

    private mutating func fail(_ definition: ProfileDefinition, line: Int? = nil, key: String? = "source_profile", _ message: String) {
        guard failed.insert(definition.name).inserted else { return }
        errors.append(ConfigError(file: configFile, line: line ?? definition.sourceProfile.line, profile: definition.name, key: key, message: message))
    }

    private mutating func resolve(_ name: String, visiting: [String]) -> ManagedProfile? {
        if let done = resolved[name] { return done }
        guard !failed.contains(name), let definition = definitions[name] else { return nil }
        let sourceName = definition.sourceProfile.value

        let source: ManagedProfile.Source
        let chain: [String]
        if managedNames.contains(sourceName) {
            let path = visiting + [name]
            if let start = path.firstIndex(of: sourceName) {
                failCycle(Array(path[start...]) + [sourceName])
                return nil
            }
            guard let sourceProfile = resolve(sourceName, visiting: path) else {
                fail(definition, "source profile '\(sourceName)' has errors (reported separately); this profile waits for them to be fixed")
                return nil
            }
            guard let checked = checkManagedSource(definition, source: sourceProfile) else { return nil }
            source = checked
            chain = [name] + sourceProfile.sourceChain
        } else {
            guard let external = resolveExternalSource(definition) else { return nil }
            source = external
            chain = [name, sourceName]
        }

        let profile = ManagedProfile(
            name: name,
            kind: definition.roleArn.map { .assumeRole(roleArn: $0.value, externalId: definition.externalId, roleSessionName: definition.roleSessionName) } ?? .sessionToken,
            source: source,
            mfaSerial: definition.mfaSerial,
            mfaProcess: definition.mfaProcess,
            durationSeconds: definition.durationSeconds?.value,
            region: definition.region,
            stsEndpoint: endpoints.resolve(profileURL: definition.endpointURL, profileRegion: definition.region),
            writeCredentials: definition.writeCredentials,
            credentialsSection: definition.credentialsSection.value,
            location: definition.location,
            sourceChain: chain,
            rotateAfter: definition.rotateAfter
        )
        resolved[name] = profile
        ordered.append(profile)
        return profile
    }

    private mutating func failCycle(_ cycle: [String]) {
        let description = cycle.joined(separator: " → ")
        for member in Set(cycle) {
            guard let definition = definitions[member] else { continue }
            let message = cycle.count == 2
                ? "source_profile names the profile itself; a managed profile needs another profile as its source"
                : "source_profile forms a cycle: \(description)"
            fail(definition, message)
        }
    }

    /// Chaining from another managed profile, whose credentials are always a session.
    private mutating func checkManagedSource(_ definition: ProfileDefinition, source: ManagedProfile) -> ManagedProfile.Source? {
        guard definition.roleArn != nil else {
            fail(definition, "'\(source.name)' is a session credd manages, but this profile calls GetSessionToken, which AWS rejects when called with session credentials; use the long-term profile as source_profile, or add role_arn to assume a role")
            return nil
        }
        if case .assumeRole = source.kind, let duration = definition.durationSeconds, duration.value > 3600 {
            fail(definition, line: duration.line, key: "duration_seconds", "\(duration.value) is too long for role chaining: this role is assumed with '\(source.name)''s role session, and AWS limits such sessions to 3600 seconds")
            return nil
        }
        return .managed(source.name)
    }

    /// A source in the AWS files: static keys (preferred, as in botocore) or `credential_process`.
    private mutating func resolveExternalSource(_ definition: ProfileDefinition) -> ManagedProfile.Source? {
        let sourceName = definition.sourceProfile.value
        if let writer = outputSections[sourceName] {
            fail(definition, "[\(sourceName)] in \(shared.credentialsPath) is the section credd writes for profile '\(writer)', so using it as a source would be circular; write source_profile = \(writer) to chain from that profile")
            return nil
        }
        guard let profile = shared.profile(named: sourceName) else {
            var message = "source profile '\(sourceName)' not found: no [profile \(sourceName)] in \(configFile), no [\(sourceName)] in \(shared.credentialsPath), no [profile \(sourceName)] in \(shared.configPath)"
            let candidates = managedNames.union(shared.profileNames)
            if let suggestion = ConfigValues.suggestion(for: sourceName, among: candidates) { message += "; did you mean '\(suggestion)'?" }
            for (file, reason) in shared.unreadable.sorted(by: { $0.key < $1.key }) { message += " (\(file) could not be read: \(reason))" }
            message += ConfigValues.inlineCommentHint(sourceName)
            fail(definition, message)
            return nil
        }
        if let section = profile.credentialsSection, CreddManagedSection.isManaged(section) {
            fail(definition, "[\(sourceName)] at \(shared.credentialsPath):\(section.headerLineNumber) is marked '\(CreddManagedSection.marker)': it holds a session credd wrote earlier, not a source; name the long-term profile in source_profile")
            return nil
        }
        let isGetSessionToken = definition.roleArn == nil
        if let accessKey = profile.value("aws_access_key_id") {
            guard let secretKey = profile.value("aws_secret_access_key"), !secretKey.value.isEmpty, !accessKey.value.isEmpty else {
                fail(definition, "source profile '\(sourceName)' at \(accessKey.location) has an incomplete key pair: it needs both aws_access_key_id and aws_secret_access_key")
                return nil
            }
            // botocore reads the legacy name first, so a stale one would win there too.
            let token = profile.value("aws_security_token") ?? profile.value("aws_session_token")
            if isGetSessionToken, token != nil {
                fail(definition, "source profile '\(sourceName)' at \(accessKey.location) holds session credentials (it has a session token); GetSessionToken must be called with long-term keys, which AWS requires")
                return nil
            }
            let credentials = AWSCredentials(
                accessKeyId: accessKey.value,
                secretAccessKey: Secret(secretKey.value),
                sessionToken: token.flatMap { $0.value.isEmpty ? nil : Secret($0.value) }
            )
            return .staticKeys(credentials, origin: accessKey.location)
        }
        if let process = profile.value("credential_process"), !process.value.isEmpty {
            return .credentialProcess(process.value, origin: process.location)
        }
        if profile.value("role_arn") != nil {
            fail(definition, "source profile '\(sourceName)' at \(profile.location) is an AWS CLI role profile; to chain from it, define it in \(configFile) as [profile \(sourceName)]")
        } else {
            fail(definition, "source profile '\(sourceName)' at \(profile.location) has neither aws_access_key_id and aws_secret_access_key nor credential_process")
        }
        return nil
    }
}
