import CreddCore
import FoundationEssentials

/// A profile credd keeps fresh, fully resolved and validated.
public struct ManagedProfile: Sendable, Hashable {
    /// Which call renews the session.
    public enum Kind: Sendable, Hashable {
        /// `GetSessionToken` (with MFA when `mfaSerial` is set): a session of long-term keys.
        case sessionToken
        /// `AssumeRole`.
        case assumeRole(roleArn: String, externalId: String?, roleSessionName: String?)
        /// IAM Identity Center's GetRoleCredentials for a role of an account, with the access
        /// token of the `.ssoSession` source.
        case sso(accountId: String, roleName: String)
    }

    /// Where the credentials that call STS come from.
    public enum Source: Sendable, Hashable {
        /// Another managed profile's current session (a chain).
        case managed(String)
        /// Keys from `~/.aws/credentials` or `~/.aws/config`, read when the config was loaded.
        case staticKeys(AWSCredentials, origin: SourceLocation)
        /// Long-term keys that `credd keys add` stored in the Secret Service under this profile
        /// name; read at each renewal, never kept.
        case secretService(String)
        /// A `credential_process` command line, run without a shell.
        case credentialProcess(String, origin: SourceLocation)
        /// The access token of an IAM Identity Center session (for `.sso` profiles only).
        case ssoSession(SSOSessionConfig)
    }

    /// The `NAME` of `[profile NAME]` in credd's config.
    public let name: String
    public let kind: Kind
    public let source: Source
    /// The MFA device whose code the STS call carries; `nil` for no MFA.
    public let mfaSerial: String?
    /// A command that prints a current MFA code; `nil` means `credd login` supplies it.
    public let mfaProcess: String?
    /// `nil` leaves the duration to STS's default.
    public let durationSeconds: Int?
    /// The profile's own `region` (the environment's is already folded into `stsEndpoint`).
    public let region: String?
    /// Where this profile's STS calls go; see `STSEndpointResolver` for the order.
    public let stsEndpoint: STSEndpoint
    /// `false`: serve on the endpoint only, never put these secrets on disk.
    public let writeCredentials: Bool
    /// The `~/.aws/credentials` section credd writes for this profile.
    public let credentialsSection: String
    /// The profile's `[profile NAME]` header in credd's config.
    public let location: SourceLocation
    /// This profile's name, then its source's, down to the root source (`["dev", "mfa",
    /// "alice-long-term"]`), for `credd check` and `credd status`. An Identity Center profile's
    /// chain ends with itself (its session is no profile).
    public let sourceChain: [String]
    /// `rotate_after`: the daemon replaces the long-term keys at the root of `sourceChain` once
    /// they are this old; `nil` for no scheduled rotation.
    public let rotateAfter: RotationInterval?
    /// AssumeRole's optional settings (source identity, session tags, session policies); empty
    /// for GetSessionToken profiles.
    public let roleOptions: AssumeRoleOptions

    public init(
        name: String, kind: Kind, source: Source, mfaSerial: String?, mfaProcess: String?, durationSeconds: Int?,
        region: String?, stsEndpoint: STSEndpoint, writeCredentials: Bool, credentialsSection: String,
        location: SourceLocation, sourceChain: [String], rotateAfter: RotationInterval? = nil, roleOptions: AssumeRoleOptions = .none
    ) {
        self.name = name
        self.kind = kind
        self.source = source
        self.mfaSerial = mfaSerial
        self.mfaProcess = mfaProcess
        self.durationSeconds = durationSeconds
        self.region = region
        self.stsEndpoint = stsEndpoint
        self.writeCredentials = writeCredentials
        self.credentialsSection = credentialsSection
        self.location = location
        self.sourceChain = sourceChain
        self.rotateAfter = rotateAfter
        self.roleOptions = roleOptions
    }

    /// The role ARN for `AssumeRole` profiles.
    public var roleArn: String? {
        switch kind {
        case .sessionToken, .sso: return nil
        case let .assumeRole(roleArn, _, _): return roleArn
        }
    }

    /// The Identity Center session of an `.sso` profile.
    public var ssoSession: SSOSessionConfig? {
        guard case let .ssoSession(session) = source else { return nil }
        return session
    }
}

/// Where STS requests for a profile go and how they are signed.
public struct STSEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let url: URL
    /// The region SigV4 signs for (`us-east-1` for the global endpoint).
    public let signingRegion: String
    /// Why this endpoint was chosen, for `credd check` (`regional endpoint, partition aws-cn`,
    /// `global endpoint: sts_regional_endpoints = legacy`, …). Not part of the endpoint's identity.
    public let reason: String?
    /// The AWS partition of a regional or global endpoint (`aws`, `aws-cn`, …); `nil` for a
    /// custom URL, which may be anything.
    public let partition: String?

    public init(url: URL, signingRegion: String, reason: String? = nil, partition: String? = nil) {
        self.url = url
        self.signingRegion = signingRegion
        self.reason = reason
        self.partition = partition
    }

    public var description: String { "\(url.absoluteString) (signing region \(signingRegion))" }

    public static func == (lhs: STSEndpoint, rhs: STSEndpoint) -> Bool {
        lhs.url == rhs.url && lhs.signingRegion == rhs.signingRegion
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(url)
        hasher.combine(signingRegion)
    }
}

/// The `[credd]` section, with defaults applied and paths expanded.
public struct DaemonSettings: Sendable, Hashable {
    /// Used when `listen` is unset or invalid.
    public static let defaultListenHost = "127.0.0.1"
    /// Used when `listen` is unset or invalid.
    public static let defaultListenPort = 9911

    /// A loopback address literal: `127.0.0.1` or `::1` (no brackets).
    public let listenHost: String
    public let listenPort: Int
    /// The profile the IMDS role listing names; always a loaded profile when set.
    public let imdsProfile: String?
    /// The `~/.aws/credentials` path credd writes, `~` expanded (not yet symlink-resolved).
    public let credentialsFile: String
    /// `$AWS_CONFIG_FILE` or `~/.aws/config`, read for sources.
    public let awsConfigFile: String
    /// The credd config file that was loaded.
    public let configFile: String
    /// `notifications`: desktop notifications when a profile needs the user (on by default).
    public let notifications: Bool
    /// `notify_action_command`, split: what the "Enter code" button runs, with the profile name
    /// appended; `nil` runs `credd login PROFILE` in `x-terminal-emulator`.
    public let notifyActionCommand: [String]?

    public init(
        listenHost: String, listenPort: Int, imdsProfile: String?, credentialsFile: String, awsConfigFile: String, configFile: String,
        notifications: Bool = true, notifyActionCommand: [String]? = nil
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.imdsProfile = imdsProfile
        self.credentialsFile = credentialsFile
        self.awsConfigFile = awsConfigFile
        self.configFile = configFile
        self.notifications = notifications
        self.notifyActionCommand = notifyActionCommand
    }
}

/// Everything a load produced: the good profiles and every problem, so one broken profile never
/// hides the others.
public struct LoadedConfiguration: Sendable, Hashable {
    /// `[credd]` with defaults applied.
    public let settings: DaemonSettings
    /// In dependency order: a profile's managed source always comes before it.
    public let profiles: [ManagedProfile]
    /// Global problems (file-level, `[credd]`) and per-profile ones (`profile` set); a profile
    /// with an error is not in `profiles`.
    public let errors: [ConfigError]
    /// The files whose changes should trigger a reload: credd's config and the two AWS files.
    public let watchedFiles: [String]
    /// Every valid `[sso-session NAME]` of credd's config and `~/.aws/config` (credd's own wins
    /// on a clash), by name order, whether or not a profile uses it: `credd login SESSION` and
    /// `credd sso profiles SESSION` take any of them.
    public let ssoSessions: [SSOSessionConfig]

    public init(
        settings: DaemonSettings, profiles: [ManagedProfile], errors: [ConfigError], watchedFiles: [String], ssoSessions: [SSOSessionConfig] = []
    ) {
        self.settings = settings
        self.profiles = profiles
        self.errors = errors
        self.watchedFiles = watchedFiles
        self.ssoSessions = ssoSessions
    }

    /// The Identity Center session `name` means to `credd login NAME`: an sso-session of that
    /// name, else the session of the loaded SSO profile `name` (which may be a legacy one).
    public func ssoSession(named name: String) -> SSOSessionConfig? {
        ssoSessions.first { $0.name == name } ?? profile(named: name)?.ssoSession
    }

    /// The loaded profile called `name`, if it has no errors.
    public func profile(named name: String) -> ManagedProfile? {
        profiles.first { $0.name == name }
    }
}
