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
    public var message: String?
    public var status: StatusDocument?
    public var credentials: ProcessCredentials?
    public var environment: EndpointEnvironment?

    public init(
        ok: Bool, error: String? = nil, message: String? = nil, status: StatusDocument? = nil,
        credentials: ProcessCredentials? = nil, environment: EndpointEnvironment? = nil
    ) {
        self.ok = ok
        self.error = error
        self.message = message
        self.status = status
        self.credentials = credentials
        self.environment = environment
    }

    public static func failure(_ message: String) -> ControlResponse {
        ControlResponse(ok: false, error: message)
    }
}

/// The stable `credd status --json` document (design.md §6).
public struct StatusDocument: Codable, Sendable, Hashable {
    public struct Daemon: Codable, Sendable, Hashable {
        public var pid: Int32
        public var version: String
        public var started_at: String
        public var config_file: String
        public var credentials_file: String
        public var endpoint: String?
        public var config_errors: [String]

        public init(pid: Int32, version: String, started_at: String, config_file: String, credentials_file: String, endpoint: String?, config_errors: [String]) {
            self.pid = pid
            self.version = version
            self.started_at = started_at
            self.config_file = config_file
            self.credentials_file = credentials_file
            self.endpoint = endpoint
            self.config_errors = config_errors
        }
    }

    /// Scheduled rotation of the long-term keys behind a profile that sets `rotate_after`.
    /// Key ids are not secrets; no secret is ever here. Every key is always present.
    public struct Rotation: Codable, Sendable, Hashable {
        /// `pending` (age not checked yet), `checking`, `scheduled`, `rotating`, `retrying`
        /// (the last check or rotation failed: see `last_error`) or `unavailable`.
        public var state: String
        /// The profile's own `rotate_after`, e.g. `90d`.
        public var rotate_after: String
        /// The credentials-file section holding the keys; null when unavailable.
        public var section: String?
        /// The access key id in that section, once checked with IAM.
        public var key_id: String?
        /// The key's `CreateDate` from ListAccessKeys.
        public var key_created: String?
        public var key_age_seconds: Int?
        /// When the daemon next tries to rotate: the key's creation plus the shortest
        /// `rotate_after` of the profiles sharing these keys, or the retry time after a failure.
        public var next_rotation: String?
        /// When this daemon last rotated these keys.
        public var last_rotation: String?
        /// The IAM user's other keys (left by a failed rotation, or made elsewhere), to delete
        /// once nothing uses them.
        public var leftover_key_ids: [String]
        public var last_error: String?
        /// Why these keys cannot be rotated (`state` is `unavailable`).
        public var unavailable_reason: String?

        public init(
            state: String, rotate_after: String, section: String?, key_id: String?, key_created: String?, key_age_seconds: Int?,
            next_rotation: String?, last_rotation: String?, leftover_key_ids: [String], last_error: String?, unavailable_reason: String?
        ) {
            self.state = state
            self.rotate_after = rotate_after
            self.section = section
            self.key_id = key_id
            self.key_created = key_created
            self.key_age_seconds = key_age_seconds
            self.next_rotation = next_rotation
            self.last_rotation = last_rotation
            self.leftover_key_ids = leftover_key_ids
            self.last_error = last_error
            self.unavailable_reason = unavailable_reason
        }

        enum CodingKeys: String, CodingKey {
            case state, rotate_after, section, key_id, key_created, key_age_seconds, next_rotation, last_rotation, leftover_key_ids,
                last_error, unavailable_reason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(state, forKey: .state)
            try container.encode(rotate_after, forKey: .rotate_after)
            try container.encode(section, forKey: .section)
            try container.encode(key_id, forKey: .key_id)
            try container.encode(key_created, forKey: .key_created)
            try container.encode(key_age_seconds, forKey: .key_age_seconds)
            try container.encode(next_rotation, forKey: .next_rotation)
            try container.encode(last_rotation, forKey: .last_rotation)
            try container.encode(leftover_key_ids, forKey: .leftover_key_ids)
            try container.encode(last_error, forKey: .last_error)
            try container.encode(unavailable_reason, forKey: .unavailable_reason)
        }
    }

    /// Every key is always present (null when unknown): scripts may index without checking.
    public struct Profile: Codable, Sendable, Hashable {
        public var name: String
        /// `pending`, `fresh`, `refreshing`, `retrying`, `needs_mfa`, `expired` or `error`.
        public var state: String
        public var expiration: String?
        public var next_refresh: String?
        public var last_refresh: String?
        public var source: String
        public var error: String?
        /// Null when the profile does not set `rotate_after`.
        public var rotation: Rotation?

        public init(
            name: String, state: String, expiration: String?, next_refresh: String?, last_refresh: String?, source: String, error: String?,
            rotation: Rotation? = nil
        ) {
            self.name = name
            self.state = state
            self.expiration = expiration
            self.next_refresh = next_refresh
            self.last_refresh = last_refresh
            self.source = source
            self.error = error
            self.rotation = rotation
        }

        enum CodingKeys: String, CodingKey {
            case name, state, expiration, next_refresh, last_refresh, source, error, rotation
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(state, forKey: .state)
            try container.encode(expiration, forKey: .expiration)
            try container.encode(next_refresh, forKey: .next_refresh)
            try container.encode(last_refresh, forKey: .last_refresh)
            try container.encode(source, forKey: .source)
            try container.encode(error, forKey: .error)
            try container.encode(rotation, forKey: .rotation)
        }
    }

    public var daemon: Daemon
    public var profiles: [Profile]

    public init(daemon: Daemon, profiles: [Profile]) {
        self.daemon = daemon
        self.profiles = profiles
    }

    /// Every profile fresh: what `credd status` reports with exit status 0.
    public var allFresh: Bool { profiles.allSatisfy { $0.state == "fresh" } }
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
