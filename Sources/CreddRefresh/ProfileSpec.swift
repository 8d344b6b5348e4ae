/// What the refresh engine needs to know about one managed profile.
///
/// The daemon maps each resolved config profile onto a `ProfileSpec`, so this module stays
/// independent of the config format; everything the renewer needs beyond this (role ARN, MFA
/// serial, durations) travels inside the renewer's own copy of the configuration.
public struct ProfileSpec: Sendable, Hashable {
    /// The managed profile's name, as in `credd status` and the credentials file.
    public let name: String
    /// The managed profile whose credentials this one renews with (role chaining); `nil` when
    /// the source is static keys or a `credential_process` outside credd's control.
    public let sourceProfile: String?
    /// Whether every renewal needs an MFA code (`mfa_serial` is set).
    public let requiresMFACode: Bool
    /// Whether the renewer can obtain the code itself by running `mfa_process`.
    public let hasMFAProcess: Bool
    /// What `credd login` takes to sign in to the IAM Identity Center session this profile
    /// renews with (the session's name); `nil` when it renews without one.
    public let signInName: String?
    /// Whose session this profile's credentials are: a digest of what decides that (the
    /// profile's name, its source's identity or keys, `mfa_serial`, the role and external id),
    /// never a secret. A session is only ever served, adopted or kept across a config change
    /// under the identity it was obtained for.
    public let identity: String
    /// Changes whenever anything that affects renewal changes. `update(profiles:)` renews
    /// profiles whose identity differs; a fingerprint change alone keeps the session in service.
    public let fingerprint: ConfigurationFingerprint

    public init(
        name: String,
        sourceProfile: String? = nil,
        requiresMFACode: Bool = false,
        hasMFAProcess: Bool = false,
        signInName: String? = nil,
        identity: String,
        fingerprint: ConfigurationFingerprint
    ) {
        self.name = name
        self.sourceProfile = sourceProfile
        self.requiresMFACode = requiresMFACode
        self.hasMFAProcess = hasMFAProcess
        self.signInName = signInName
        self.identity = identity
        self.fingerprint = fingerprint
    }

    /// Renewal waits for `credd login`: a code is needed and nothing can produce one unattended.
    public var waitsForInteractiveMFA: Bool { requiresMFACode && !hasMFAProcess }
}

/// An opaque, comparable digest of a profile's configuration: any `Hashable` value the daemon
/// chooses (typically the resolved profile itself, minus secrets).
public struct ConfigurationFingerprint: Sendable, Hashable {
    private let value: any Hashable & Sendable

    public init(_ value: some Hashable & Sendable) {
        self.value = value
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        AnyHashable(lhs.value) == AnyHashable(rhs.value)
    }

    public func hash(into hasher: inout Hasher) {
        AnyHashable(value).hash(into: &hasher)
    }
}
