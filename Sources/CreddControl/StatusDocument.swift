/// The stable `credd status --json` document (docs/design.md §6). Its keys are snake_case.
public struct StatusDocument: Codable, Sendable, Hashable {
    public struct Daemon: Codable, Sendable, Hashable {
        public var pid: Int32
        public var version: String
        public var startedAt: String
        public var configFile: String
        public var credentialsFile: String
        public var endpoint: String?
        /// Why the endpoint is not serving (its port is held by another program); `endpoint` is
        /// then null.
        public var endpointError: String?
        public var configErrors: [String]
        /// Desktop integration: `starting`, `notifications on`, `notifications off`, `no session bus`,
        /// `no notification service`, `notifications failing: …`.
        public var desktop: String?

        public init(
            pid: Int32, version: String, startedAt: String, configFile: String, credentialsFile: String, endpoint: String?,
            endpointError: String? = nil, configErrors: [String], desktop: String? = nil
        ) {
            self.pid = pid
            self.version = version
            self.startedAt = startedAt
            self.configFile = configFile
            self.credentialsFile = credentialsFile
            self.endpoint = endpoint
            self.endpointError = endpointError
            self.configErrors = configErrors
            self.desktop = desktop
        }

        enum CodingKeys: String, CodingKey {
            case pid, version, endpoint, desktop
            case startedAt = "started_at"
            case configFile = "config_file"
            case credentialsFile = "credentials_file"
            case configErrors = "config_errors"
            case endpointError = "endpoint_error"
        }
    }

    /// Scheduled rotation of the long-term keys behind a profile that sets `rotate_after`.
    /// Key ids are not secrets; no secret is ever here. Every key is always present.
    public struct Rotation: Codable, Sendable, Hashable {
        /// `pending` (age not checked yet), `checking`, `scheduled`, `rotating`, `retrying`
        /// (the last check or rotation failed: see `lastError`) or `unavailable`.
        public var state: String
        /// The profile's own `rotate_after`, e.g. `90d`.
        public var rotateAfter: String
        /// The credentials-file section holding the keys, or the source profile whose keys the
        /// keyring holds (see `keysIn`); null when unavailable.
        public var section: String?
        /// Where the keys are: `credentials_file` or `keyring`; null when unavailable.
        public var keysIn: String?
        /// The access key id there, once checked with IAM.
        public var keyId: String?
        /// The key's `CreateDate` from ListAccessKeys.
        public var keyCreated: String?
        public var keyAgeSeconds: Int?
        /// When the daemon next tries to rotate: the key's creation plus the shortest
        /// `rotate_after` of the profiles sharing these keys, or the retry time after a failure.
        public var nextRotation: String?
        /// When this daemon last rotated these keys.
        public var lastRotation: String?
        /// The IAM user's other keys (left by a failed rotation, or made elsewhere), to delete
        /// once nothing uses them.
        public var leftoverKeyIds: [String]
        public var lastError: String?
        /// Why these keys cannot be rotated (`state` is `unavailable`).
        public var unavailableReason: String?

        public init(
            state: String, rotateAfter: String, section: String?, keyId: String?, keyCreated: String?, keyAgeSeconds: Int?,
            nextRotation: String?, lastRotation: String?, leftoverKeyIds: [String], lastError: String?, unavailableReason: String?,
            keysIn: String? = nil
        ) {
            self.state = state
            self.rotateAfter = rotateAfter
            self.section = section
            self.keyId = keyId
            self.keyCreated = keyCreated
            self.keyAgeSeconds = keyAgeSeconds
            self.nextRotation = nextRotation
            self.lastRotation = lastRotation
            self.leftoverKeyIds = leftoverKeyIds
            self.lastError = lastError
            self.unavailableReason = unavailableReason
            self.keysIn = keysIn
        }

        enum CodingKeys: String, CodingKey {
            case state, section
            case rotateAfter = "rotate_after"
            case keyId = "key_id"
            case keyCreated = "key_created"
            case keyAgeSeconds = "key_age_seconds"
            case nextRotation = "next_rotation"
            case lastRotation = "last_rotation"
            case leftoverKeyIds = "leftover_key_ids"
            case lastError = "last_error"
            case unavailableReason = "unavailable_reason"
            case keysIn = "keys_in"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(state, forKey: .state)
            try container.encode(rotateAfter, forKey: .rotateAfter)
            try container.encode(section, forKey: .section)
            try container.encode(keysIn, forKey: .keysIn)
            try container.encode(keyId, forKey: .keyId)
            try container.encode(keyCreated, forKey: .keyCreated)
            try container.encode(keyAgeSeconds, forKey: .keyAgeSeconds)
            try container.encode(nextRotation, forKey: .nextRotation)
            try container.encode(lastRotation, forKey: .lastRotation)
            try container.encode(leftoverKeyIds, forKey: .leftoverKeyIds)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(unavailableReason, forKey: .unavailableReason)
        }
    }

    /// What the user must do for a profile that cannot renew by itself (see `ProfileAction`).
    /// Every key is always present.
    public struct Action: Codable, Sendable, Hashable {
        /// `mfa_code`, `retry`, `fix_config`, `login` or `unlock`.
        public var kind: String
        /// The profile the command acts on: this one, or the source in its chain it waits on.
        public var profile: String
        /// The command to run, e.g. `credd login mfa`.
        public var command: String
        /// When the credentials in service expire; null when none are in service.
        public var deadline: String?
        /// For `mfa_code`: the MFA device whose code `profile` needs (not a secret; prompts name it).
        public var mfaSerial: String?

        public init(kind: String, profile: String, command: String, deadline: String?, mfaSerial: String?) {
            self.kind = kind
            self.profile = profile
            self.command = command
            self.deadline = deadline
            self.mfaSerial = mfaSerial
        }

        enum CodingKeys: String, CodingKey {
            case kind, profile, command, deadline
            case mfaSerial = "mfa_serial"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(profile, forKey: .profile)
            try container.encode(command, forKey: .command)
            try container.encode(deadline, forKey: .deadline)
            try container.encode(mfaSerial, forKey: .mfaSerial)
        }
    }

    /// Every key is always present (null when unknown): scripts may index without checking.
    public struct Profile: Codable, Sendable, Hashable {
        public var name: String
        /// `pending`, `fresh`, `refreshing`, `retrying`, `needs_mfa`, `needs_unlock`, `expired` or `error`.
        public var state: String
        public var expiration: String?
        public var nextRefresh: String?
        public var lastRefresh: String?
        public var source: String
        /// Never null while `action` is set: it says in words why the profile waits.
        public var error: String?
        /// Null when the profile is fine or heals by itself.
        public var action: Action?
        /// Null when the profile does not set `rotate_after`.
        public var rotation: Rotation?

        public init(
            name: String, state: String, expiration: String?, nextRefresh: String?, lastRefresh: String?, source: String, error: String?,
            action: Action? = nil, rotation: Rotation? = nil
        ) {
            self.name = name
            self.state = state
            self.expiration = expiration
            self.nextRefresh = nextRefresh
            self.lastRefresh = lastRefresh
            self.source = source
            self.error = error
            self.action = action
            self.rotation = rotation
        }

        enum CodingKeys: String, CodingKey {
            case name, state, expiration, source, error, action, rotation
            case nextRefresh = "next_refresh"
            case lastRefresh = "last_refresh"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(state, forKey: .state)
            try container.encode(expiration, forKey: .expiration)
            try container.encode(nextRefresh, forKey: .nextRefresh)
            try container.encode(lastRefresh, forKey: .lastRefresh)
            try container.encode(source, forKey: .source)
            try container.encode(error, forKey: .error)
            try container.encode(action, forKey: .action)
            try container.encode(rotation, forKey: .rotation)
        }
    }

    /// An IAM Identity Center session the profiles renew with: its access token, never a secret.
    /// Every key is always present (null when unknown).
    public struct SSOSession: Codable, Sendable, Hashable {
        /// The sso-session's name, or the start URL of a legacy profile.
        public var name: String
        public var startURL: String
        public var region: String
        /// `pending`, `reading_cache`, `fresh`, `refreshing`, `retrying` or `needs_login`.
        public var state: String
        /// When the access token in the cache expires.
        public var tokenExpiration: String?
        /// Whether the token can be refreshed without a sign-in (a refresh token and a valid
        /// client registration).
        public var canRefresh: Bool
        /// When the client registration, and with it the refresh, ends.
        public var registrationExpiration: String?
        /// When a sign-in will be needed, if known: the expiry of a token that cannot be
        /// refreshed, or of the registration.
        public var loginNeededAt: String?
        public var lastRefresh: String?
        public var error: String?
        /// `login` with the `credd login` command while a sign-in is needed; null otherwise.
        public var action: Action?

        public init(
            name: String, startURL: String, region: String, state: String, tokenExpiration: String?, canRefresh: Bool,
            registrationExpiration: String?, loginNeededAt: String?, lastRefresh: String?, error: String?, action: Action?
        ) {
            self.name = name
            self.startURL = startURL
            self.region = region
            self.state = state
            self.tokenExpiration = tokenExpiration
            self.canRefresh = canRefresh
            self.registrationExpiration = registrationExpiration
            self.loginNeededAt = loginNeededAt
            self.lastRefresh = lastRefresh
            self.error = error
            self.action = action
        }

        enum CodingKeys: String, CodingKey {
            case name, region, state, error, action
            case startURL = "start_url"
            case tokenExpiration = "token_expiration"
            case canRefresh = "can_refresh"
            case registrationExpiration = "registration_expiration"
            case loginNeededAt = "login_needed_at"
            case lastRefresh = "last_refresh"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(startURL, forKey: .startURL)
            try container.encode(region, forKey: .region)
            try container.encode(state, forKey: .state)
            try container.encode(tokenExpiration, forKey: .tokenExpiration)
            try container.encode(canRefresh, forKey: .canRefresh)
            try container.encode(registrationExpiration, forKey: .registrationExpiration)
            try container.encode(loginNeededAt, forKey: .loginNeededAt)
            try container.encode(lastRefresh, forKey: .lastRefresh)
            try container.encode(error, forKey: .error)
            try container.encode(action, forKey: .action)
        }
    }

    public var daemon: Daemon
    public var profiles: [Profile]
    /// Empty without SSO profiles, and from daemons older than this field.
    public var ssoSessions: [SSOSession]

    public init(daemon: Daemon, profiles: [Profile], ssoSessions: [SSOSession] = []) {
        self.daemon = daemon
        self.profiles = profiles
        self.ssoSessions = ssoSessions
    }

    enum CodingKeys: String, CodingKey {
        case daemon, profiles
        case ssoSessions = "sso_sessions"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        daemon = try container.decode(Daemon.self, forKey: .daemon)
        profiles = try container.decode([Profile].self, forKey: .profiles)
        ssoSessions = try container.decodeIfPresent([SSOSession].self, forKey: .ssoSessions) ?? []
    }

    /// Every profile fresh, no sign-in needed and the config without errors: what `credd
    /// status` reports with exit status 0.
    public var isHealthy: Bool {
        daemon.configErrors.isEmpty && daemon.endpointError == nil && profiles.allSatisfy { $0.state == "fresh" }
            && ssoSessions.allSatisfy { $0.action == nil }
    }
}
