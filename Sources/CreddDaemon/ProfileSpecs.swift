import CreddConfig
import CreddCore
import CreddRefresh

/// Maps resolved config profiles onto what the refresh engine schedules.
enum ProfileSpecs {
    static func make(_ profiles: [ManagedProfile], rotatedKeys: RotatedKeys) -> [ProfileSpec] {
        let identities = ProfileIdentity.digests(of: profiles) { profile, credentials in
            guard let section = profile.sourceChain.last else { return credentials }
            return rotatedKeys.fingerprintKeys(section: section, holding: credentials)
        }
        return profiles.map { profile in
            let managedSource: String?
            if case let .managed(name) = profile.source { managedSource = name } else { managedSource = nil }
            return ProfileSpec(
                name: profile.name,
                sourceProfile: managedSource,
                requiresMFACode: profile.mfaSerial != nil,
                hasMFAProcess: profile.mfaProcess != nil,
                signInName: profile.ssoSession.map { $0.name ?? profile.name },
                identity: identities[profile.name] ?? profile.name,
                fingerprint: fingerprint(profile, rotatedKeys: rotatedKeys)
            )
        }
    }

    /// The profile itself, except that keys scheduled rotation put in count as the keys they
    /// replaced: the engine then does not renew at once, so served credentials stay in service
    /// and the next renewal simply signs with the new key (the renewer reads the reloaded config).
    private static func fingerprint(_ profile: ManagedProfile, rotatedKeys: RotatedKeys) -> ConfigurationFingerprint {
        guard case let .staticKeys(credentials, origin) = profile.source, let section = profile.sourceChain.last else {
            return ConfigurationFingerprint(profile)
        }
        let keys = rotatedKeys.fingerprintKeys(section: section, holding: credentials)
        guard keys != credentials else { return ConfigurationFingerprint(profile) }
        return ConfigurationFingerprint(
            ManagedProfile(
                name: profile.name, kind: profile.kind, source: .staticKeys(keys, origin: origin), mfaSerial: profile.mfaSerial,
                mfaProcess: profile.mfaProcess, durationSeconds: profile.durationSeconds, region: profile.region,
                stsEndpoint: profile.stsEndpoint, writeCredentials: profile.writeCredentials, credentialsSection: profile.credentialsSection,
                location: profile.location, sourceChain: profile.sourceChain, rotateAfter: profile.rotateAfter,
                roleOptions: profile.roleOptions))
    }
}

/// The keys scheduled rotation put into the credentials file, per section, and the keys the
/// section held before the first of those rotations. A key edited in by hand is not here, so
/// it still renews its profiles at once, as any config change does.
struct RotatedKeys: Sendable, Hashable {
    private struct Entry: Sendable, Hashable {
        /// The access key id the last rotation left in the file; `nil` while one is under way
        /// (the file may be re-read before it ends).
        var current: String?
        let original: AWSCredentials
    }

    private var sections: [String: Entry] = [:]

    /// A rotation of `section` starts; `profiles` are the config in force.
    mutating func begin(section: String, in profiles: [ManagedProfile]) {
        for profile in profiles where profile.sourceChain.last == section {
            guard case let .staticKeys(loaded, _) = profile.source else { continue }
            let carried = sections[section].flatMap { $0.current == loaded.accessKeyId ? $0.original : nil }
            sections[section] = Entry(current: nil, original: carried ?? loaded)
            return
        }
    }

    /// The rotation ended with `fileHolds` in the file (the old key, after a roll-back).
    mutating func finish(section: String, fileHolds: String) {
        sections[section]?.current = fileHolds
    }

    /// The keys to fingerprint a profile with whose source `section` holds `credentials`.
    func fingerprintKeys(section: String, holding credentials: AWSCredentials) -> AWSCredentials {
        guard let entry = sections[section], entry.current == nil || entry.current == credentials.accessKeyId else { return credentials }
        return entry.original
    }
}
