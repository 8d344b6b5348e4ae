/// Where a profile's long-term keys live, if credd can rotate them.
public struct RotationTarget: Sendable, Hashable {
    /// Where the keys are read and replaced.
    public let location: KeyLocation
    /// The access key id the section held when the config was loaded (not a secret); `nil` for
    /// keys in the keyring, which are read only when used.
    public let accessKeyId: String?
    /// Managed GetSessionToken profiles with MFA made directly from these keys: a current
    /// session of any of them can sign the IAM calls.
    public let mfaSessionProfiles: [String]
    /// Where to check the keys with GetCallerIdentity: the STS endpoint of the profile made
    /// directly from them.
    public let stsEndpoint: STSEndpoint

    /// The source profile whose keys these are: the `~/.aws/credentials` section holding them,
    /// or the profile the keyring item belongs to.
    public var section: String { location.name }

    public init(location: KeyLocation, accessKeyId: String?, mfaSessionProfiles: [String], stsEndpoint: STSEndpoint) {
        self.location = location
        self.accessKeyId = accessKeyId
        self.mfaSessionProfiles = mfaSessionProfiles
        self.stsEndpoint = stsEndpoint
    }

    /// Finds the keys behind `name`: a managed profile (followed down its `source_profile`
    /// chain) or the name of a credentials-file section a managed profile uses as its source.
    public static func resolve(_ name: String, in configuration: LoadedConfiguration) -> Result<RotationTarget, RotationUnavailable> {
        let credentialsFile = configuration.settings.credentialsFile
        let root: ManagedProfile
        if let profile = configuration.profile(named: name) {
            guard let found = rootProfile(of: profile, in: configuration) else {
                return .failure(RotationUnavailable(profile: name, reason: "its source_profile chain does not end in loaded profiles"))
            }
            root = found
        } else if let user = configuration.profiles.first(where: { isExternalSource($0) && $0.sourceChain.last == name }) {
            root = user
        } else {
            return .failure(RotationUnavailable(profile: name, reason: "no profile credd manages has it, or uses it as source_profile"))
        }
        guard let section = root.sourceChain.last else {
            return .failure(RotationUnavailable(profile: name, reason: "profile \(root.name) has no source"))
        }
        let location: KeyLocation
        let accessKeyId: String?
        switch root.source {
        case let .staticKeys(credentials, origin):
            guard origin.file == credentialsFile else {
                return .failure(
                    RotationUnavailable(
                        profile: name,
                        reason:
                            "the keys of [\(section)] are in \(origin.file) at line \(origin.line); credd rewrites keys only in \(credentialsFile)"))
            }
            guard credentials.sessionToken == nil else {
                return .failure(
                    RotationUnavailable(
                        profile: name, reason: "[\(section)] in \(credentialsFile) holds session credentials, not an IAM user's long-term keys"))
            }
            location = .credentialsFile(path: credentialsFile, section: section)
            accessKeyId = credentials.accessKeyId
        case let .credentialProcess(_, origin):
            return .failure(
                RotationUnavailable(
                    profile: name,
                    reason:
                        "[\(section)] gets its keys from credential_process (\(origin.file):\(origin.line)); rotate them where that command keeps them"
                ))
        case let .secretService(profile):
            location = .keyring(profile: profile)
            accessKeyId = nil
        case .managed:
            return .failure(RotationUnavailable(profile: name, reason: "its source_profile chain does not end in long-term keys"))
        case .ssoSession:
            return .failure(
                RotationUnavailable(
                    profile: name, reason: "[profile \(root.name)] signs in with IAM Identity Center: there are no long-term keys to rotate"))
        }
        let sessions = configuration.profiles.filter { profile in
            guard profile.kind == .sessionToken, profile.mfaSerial != nil, isExternalSource(profile) else { return false }
            return profile.sourceChain.last == section
        }
        return .success(
            RotationTarget(
                location: location, accessKeyId: accessKeyId, mfaSessionProfiles: sessions.map(\.name), stsEndpoint: root.stsEndpoint))
    }

    /// Follows managed sources down to the profile whose source is outside credd's config.
    private static func rootProfile(of profile: ManagedProfile, in configuration: LoadedConfiguration) -> ManagedProfile? {
        var current = profile
        // The loader rejects cycles; the bound only guards against a hand-built configuration.
        for _ in 0...configuration.profiles.count {
            guard case let .managed(sourceName) = current.source else { return current }
            guard let next = configuration.profile(named: sourceName) else { return nil }
            current = next
        }
        return nil
    }

    private static func isExternalSource(_ profile: ManagedProfile) -> Bool {
        if case .managed = profile.source { return false }
        return true
    }
}

/// Why a profile's keys cannot be rotated; shown by `credd rotate` and `credd status`.
public struct RotationUnavailable: Error, Sendable, Hashable, CustomStringConvertible {
    public let profile: String
    public let reason: String

    public init(profile: String, reason: String) {
        self.profile = profile
        self.reason = reason
    }

    public var description: String { "Key rotation is unavailable for '\(profile)': \(reason)." }
}
