import CreddCore
import FoundationEssentials

/// An MFA device and the one-time code it shows now.
public struct MFAToken: Sendable, Hashable {
    /// `mfa_serial`: a virtual device ARN or a hardware serial number.
    public var serialNumber: String
    public var code: Secret

    public init(serialNumber: String, code: Secret) {
        self.serialNumber = serialNumber
        self.code = code
    }
}

/// The inputs of an AssumeRole call.
public struct AssumeRoleRequest: Sendable, Hashable {
    public var roleArn: String
    /// `role_session_name`; when `nil` the client generates one (see `RoleSessionName`).
    public var roleSessionName: String?
    public var externalId: String?
    public var durationSeconds: Int?
    public var mfa: MFAToken?
    public var sourceIdentity: String?
    public var tags: [SessionTag]
    /// Keys of `tags` that pass on to roles this session assumes.
    public var transitiveTagKeys: [String]
    /// Managed policies that narrow the session's permissions.
    public var policyArns: [String]
    /// An inline session policy (JSON).
    public var policy: String?

    public init(
        roleArn: String, roleSessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil,
        mfa: MFAToken? = nil, sourceIdentity: String? = nil, tags: [SessionTag] = [], transitiveTagKeys: [String] = [],
        policyArns: [String] = [], policy: String? = nil
    ) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.mfa = mfa
        self.sourceIdentity = sourceIdentity
        self.tags = tags
        self.transitiveTagKeys = transitiveTagKeys
        self.policyArns = policyArns
        self.policy = policy
    }
}

/// Temporary credentials from GetSessionToken or AssumeRole.
public struct STSSession: Sendable, Hashable {
    /// Complete credentials: key id, secret, session token and expiration are all present.
    public let credentials: AWSCredentials
    /// `AssumedRoleUser/Arn` for AssumeRole; `nil` for GetSessionToken.
    public let assumedRoleArn: String?
    public let requestId: String?

    public init(credentials: AWSCredentials, assumedRoleArn: String?, requestId: String?) {
        self.credentials = credentials
        self.assumedRoleArn = assumedRoleArn
        self.requestId = requestId
    }
}

/// The identity `GetCallerIdentity` reports for a set of credentials.
public struct CallerIdentity: Sendable, Hashable {
    public let account: String
    public let arn: String
    public let userId: String
    public let requestId: String?

    public init(account: String, arn: String, userId: String, requestId: String?) {
        self.account = account
        self.arn = arn
        self.userId = userId
        self.requestId = requestId
    }
}

/// Role session names: AWS allows 2 to 64 characters of `[\w+=,.@-]`.
public enum RoleSessionName {
    public static let maxLength = 64

    /// `credd-<user>-<unix time>`, or `credd-<unix time>` without a user, with characters AWS
    /// refuses replaced by `-` and the user part shortened so the whole fits in 64 characters.
    public static func generate(userName: String?, now: Date) -> String {
        let timestamp = String(Int(now.timeIntervalSince1970))
        guard let userName, !userName.isEmpty else { return "credd-\(timestamp)" }
        let room = maxLength - "credd--".count - timestamp.count
        let user = String(String(userName.map { isAllowed($0) ? $0 : "-" }).prefix(room))
        return "credd-\(user)-\(timestamp)"
    }

    /// Whether AWS accepts `name` as a RoleSessionName.
    public static func isValid(_ name: String) -> Bool {
        (2...maxLength).contains(name.count) && name.allSatisfy(isAllowed)
    }

    private static func isAllowed(_ character: Character) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || "_+=,.@-".contains(character)
    }
}
