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

/// `credential_process` output (`"Version": 1` as a JSON number, as botocore requires).
public struct ProcessCredentials: Codable, Sendable {
    public var version: Int
    public var accessKeyId: String
    public var secretAccessKey: Secret
    public var sessionToken: Secret?
    public var expiration: String?
    /// Optional in the format; SDKs use it for account-based endpoints.
    public var accountId: String?

    public init(_ credentials: AWSCredentials) {
        self.version = 1
        self.accountId = credentials.accountId
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
        case accountId = "AccountId"
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
