import CreddConfig
import CreddRefresh

/// Maps resolved config profiles onto what the refresh engine schedules.
enum ProfileSpecs {
    static func make(_ profiles: [ManagedProfile]) -> [ProfileSpec] {
        profiles.map { profile in
            let managedSource: String?
            if case let .managed(name) = profile.source { managedSource = name } else { managedSource = nil }
            return ProfileSpec(
                name: profile.name,
                sourceProfile: managedSource,
                requiresMFACode: profile.mfaSerial != nil,
                hasMFAProcess: profile.mfaProcess != nil,
                fingerprint: ConfigurationFingerprint(profile)
            )
        }
    }
}
