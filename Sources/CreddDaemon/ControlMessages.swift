import CreddCore
import FoundationEssentials

/// One request from the CLI to the daemon over the control socket (one JSON line).
public struct ControlRequest: Codable, Sendable, Hashable {
    public enum Command: String, Codable, Sendable {
        case status, refresh, login, credentials, environment, reload
    }

    public var command: Command
    /// For `refresh`: the profiles to renew (empty means all).
    public var profiles: [String]
    /// For `login`, `credentials`, `environment`.
    public var profile: String?
    /// For `login`: the MFA code. Travels only over the 0700, uid-checked control socket.
    public var code: Secret?

    public init(command: Command, profiles: [String] = [], profile: String? = nil, code: Secret? = nil) {
        self.command = command
        self.profiles = profiles
        self.profile = profile
        self.code = code
    }
}

/// The daemon's answer (one JSON line). `error` is set, and `ok` false, when the command failed.
public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    public var error: String?
    /// For `login`: STS rejected the code (a wrong or used code), so asking again may help.
    public var codeRejected: Bool?
    public var message: String?
    public var status: StatusDocument?
    public var credentials: ProcessCredentials?
    public var environment: EndpointEnvironment?

    public init(
        ok: Bool, error: String? = nil, codeRejected: Bool? = nil, message: String? = nil, status: StatusDocument? = nil,
        credentials: ProcessCredentials? = nil, environment: EndpointEnvironment? = nil
    ) {
        self.ok = ok
        self.error = error
        self.codeRejected = codeRejected
        self.message = message
        self.status = status
        self.credentials = credentials
        self.environment = environment
    }

    public static func failure(_ message: String) -> ControlResponse {
        ControlResponse(ok: false, error: message)
    }

    enum CodingKeys: String, CodingKey {
        case ok, error, message, status, credentials, environment
        case codeRejected = "code_rejected"
    }
}

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
        /// The credentials-file section holding the keys; null when unavailable.
        public var section: String?
        /// The access key id in that section, once checked with IAM.
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
            nextRotation: String?, lastRotation: String?, leftoverKeyIds: [String], lastError: String?, unavailableReason: String?
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
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(state, forKey: .state)
            try container.encode(rotateAfter, forKey: .rotateAfter)
            try container.encode(section, forKey: .section)
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
        /// `mfa_code`, `retry` or `fix_config`.
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
        /// `pending`, `fresh`, `refreshing`, `retrying`, `needs_mfa`, `expired` or `error`.
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

    public var daemon: Daemon
    public var profiles: [Profile]

    public init(daemon: Daemon, profiles: [Profile]) {
        self.daemon = daemon
        self.profiles = profiles
    }

    /// Every profile fresh and the config without errors: what `credd status` reports with
    /// exit status 0.
    public var isHealthy: Bool {
        daemon.configErrors.isEmpty && daemon.endpointError == nil && profiles.allSatisfy { $0.state == "fresh" }
    }
}

/// `credential_process` output (`"Version": 1` as a JSON number, as botocore requires).
public struct ProcessCredentials: Codable, Sendable {
    public var version: Int
    public var accessKeyId: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?
    public var expiration: String?

    public init(_ credentials: AWSCredentials) {
        self.version = 1
        self.accessKeyId = credentials.accessKeyId
        self.secretAccessKey = credentials.secretAccessKey
        self.sessionToken = credentials.sessionToken
        self.expiration = credentials.expiration.map(AWSTimestamp.format)
    }

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case sessionToken = "SessionToken"
        case expiration = "Expiration"
    }
}

/// What `credd env` and `credd exec` need to point SDKs at the container endpoint.
public struct EndpointEnvironment: Codable, Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tokenFile: String
    public var region: String?

    public init(host: String, port: Int, tokenFile: String, region: String?) {
        self.host = host
        self.port = port
        self.tokenFile = tokenFile
        self.region = region
    }

    enum CodingKeys: String, CodingKey {
        case host, port, region
        case tokenFile = "token_file"
    }
}
