import CreddCore
import FoundationEssentials

/// One IAM Identity Center session's token as the AWS CLI v2 and botocore cache it in
/// `~/.aws/sso/cache/<sha1>.json`: the access token, its client registration and the refresh token.
///
/// Its textual forms name the start URL, the region and the expiry times only: the access token,
/// the refresh token and the client secret are `Secret`s.
public struct SSOToken: Sendable, Hashable {
    public var startURL: String
    public var region: String
    public var accessToken: Secret
    public var expiresAt: Date
    /// The client registration (RegisterClient) the refresh token belongs to.
    public var clientId: String?
    public var clientSecret: Secret?
    public var registrationExpiresAt: Date?
    /// Absent for legacy profiles and for registrations without scopes: such a token cannot be refreshed.
    public var refreshToken: Secret?
    /// Members other programs wrote that credd does not know; written back unchanged.
    public var otherFields: [String: JSONValue]

    public init(
        startURL: String, region: String, accessToken: Secret, expiresAt: Date, clientId: String? = nil,
        clientSecret: Secret? = nil, registrationExpiresAt: Date? = nil, refreshToken: Secret? = nil,
        otherFields: [String: JSONValue] = [:]
    ) {
        self.startURL = startURL
        self.region = region
        self.accessToken = accessToken
        self.expiresAt = expiresAt
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.registrationExpiresAt = registrationExpiresAt
        self.refreshToken = refreshToken
        self.otherFields = otherFields
    }

    /// The expiry of a token issued at `now` for `seconds`, in the whole seconds the cache keeps.
    public static func expiry(issuedAt now: Date, lifetime seconds: Int) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 + TimeInterval(seconds)).rounded(.down))
    }

    public func isValid(at now: Date) -> Bool { !accessToken.isEmpty && expiresAt > now }

    /// Whether CreateToken with the refresh token can be tried at `now`: botocore's own test
    /// (a refresh token, a client id and secret, a registration that has not expired).
    public func canRefresh(at now: Date) -> Bool {
        guard let refreshToken, !refreshToken.isEmpty, let clientId, !clientId.isEmpty,
            let clientSecret, !clientSecret.isEmpty, let registrationExpiresAt
        else { return false }
        return registrationExpiresAt > now
    }

    /// Why the token cannot be refreshed at `now`, or `nil` when it can.
    public func refreshBlocker(at now: Date) -> NeedsLoginReason? {
        if refreshToken.map({ $0.isEmpty }) ?? true { return .noRefreshToken }
        if (clientId ?? "").isEmpty || (clientSecret.map { $0.isEmpty } ?? true) || registrationExpiresAt == nil {
            return .noRegistration
        }
        if let registrationExpiresAt, registrationExpiresAt <= now { return .registrationExpired(registrationExpiresAt) }
        return nil
    }
}

/// Why only a new sign-in (`credd login SESSION`) can give a session a token.
public enum NeedsLoginReason: Sendable, Hashable {
    /// No token in the cache.
    case noToken
    /// The token has no refresh token (legacy profile, or a registration without scopes).
    case noRefreshToken
    /// The cache holds no client registration to refresh with.
    case noRegistration
    case registrationExpired(Date)
    /// CreateToken refused the refresh token: the Identity Center session ended.
    case sessionEnded
    /// CreateToken refused the refresh for another reason (the AWS error code): the
    /// registration or the client was rejected.
    case refreshRefused(code: String)

    /// One line for `credd status` and the journal.
    public var explanation: String {
        switch self {
        case .noToken: "no token in the cache"
        case .noRefreshToken: "the token has no refresh token (legacy sso_start_url profile or no sso_registration_scopes)"
        case .noRegistration: "the cache holds no client registration"
        case .registrationExpired(let date): "the client registration expired at \(AWSTimestamp.format(date))"
        case .sessionEnded: "the Identity Center session ended (the refresh token was refused)"
        case .refreshRefused(let code): "the token refresh was refused (\(code))"
        }
    }
}

extension SSOToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let registration = registrationExpiresAt.map { AWSTimestamp.format($0) } ?? "none"
        return "SSOToken(startUrl: \(startURL), region: \(region), accessToken: <redacted>, expiresAt: \(AWSTimestamp.format(expiresAt)), "
            + "clientId: \(clientId ?? "none"), clientSecret: \(clientSecret == nil ? "none" : "<redacted>"), "
            + "registrationExpiresAt: \(registration), refreshToken: \(refreshToken == nil ? "none" : "<redacted>"))"
    }

    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
