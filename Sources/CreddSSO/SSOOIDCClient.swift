import CreddCore
import FoundationEssentials

/// A client registration from RegisterClient: what CreateToken and the refresh token are tied to.
public struct SSOClientRegistration: Sendable, Hashable {
    public let clientId: String
    public let clientSecret: Secret
    public let expiresAt: Date

    public init(clientId: String, clientSecret: Secret, expiresAt: Date) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.expiresAt = expiresAt
    }

    /// The registration a cached token carries, if it is complete and valid at `now`.
    public init?(token: SSOToken, at now: Date) {
        guard let clientId = token.clientId, !clientId.isEmpty, let clientSecret = token.clientSecret, !clientSecret.isEmpty,
            let expiresAt = token.registrationExpiresAt, expiresAt > now
        else { return nil }
        self.init(clientId: clientId, clientSecret: clientSecret, expiresAt: expiresAt)
    }
}

/// StartDeviceAuthorization's answer: what the user must see, and the code to poll with.
public struct SSODeviceAuthorization: Sendable, Hashable {
    public let deviceCode: Secret
    public let userCode: String
    public let verificationURI: String
    public let verificationURIComplete: String?
    /// Seconds until the device code expires.
    public let expiresIn: Int
    /// Seconds between polls.
    public let interval: Int
}

/// How CreateToken obtains a token.
public enum SSOTokenGrant: Sendable, Hashable {
    case deviceCode(Secret)
    case authorizationCode(code: Secret, codeVerifier: Secret, redirectURI: String)
    case refreshToken(Secret)

    var grantType: String {
        switch self {
        case .deviceCode: "urn:ietf:params:oauth:grant-type:device_code"
        case .authorizationCode: "authorization_code"
        case .refreshToken: "refresh_token"
        }
    }
}

/// CreateToken's answer.
public struct SSOTokenResponse: Sendable, Hashable {
    public let accessToken: Secret
    /// Seconds the access token is valid.
    public let expiresIn: Int
    /// Sent on the first grant and sometimes on a refresh; keep the old one when absent.
    public let refreshToken: Secret?

    public init(accessToken: Secret, expiresIn: Int, refreshToken: Secret?) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
    }
}

/// The sso-oidc API: RegisterClient, StartDeviceAuthorization, CreateToken.
public struct SSOOIDCClient: Sendable {
    public let http: SSOHTTP
    /// The sso-oidc base URL (``SSOEndpoints/oidc``).
    public let endpoint: String

    public init(http: SSOHTTP, endpoint: String) {
        self.http = http
        self.endpoint = endpoint
    }

    /// The redirect URI registered for the authorization-code flow; the port is chosen per sign-in.
    public static let registeredRedirectURI = "http://127.0.0.1/oauth/callback"

    /// RegisterClient. With `issuerURL` the client may use the authorization-code flow with PKCE
    /// (and refresh tokens); without it, the device flow.
    public func registerClient(name: String, scopes: [String], issuerURL: String?) async throws(SSOError) -> SSOClientRegistration {
        struct Request: Encodable {
            var clientName: String
            var clientType = "public"
            var scopes: [String]?
            var grantTypes: [String]?
            var redirectUris: [String]?
            var issuerUrl: String?
        }
        struct Response: Decodable {
            var clientId: String
            var clientSecret: Secret
            var clientSecretExpiresAt: Int64
        }
        var request = Request(clientName: name, scopes: scopes.isEmpty ? nil : scopes)
        if let issuerURL {
            request.grantTypes = ["authorization_code", "refresh_token"]
            request.redirectUris = [Self.registeredRedirectURI]
            request.issuerUrl = issuerURL
        }
        let response = try await http.call(
            "RegisterClient", method: .POST, url: endpoint + "/client/register", body: request, secrets: [], as: Response.self)
        return SSOClientRegistration(
            clientId: response.clientId, clientSecret: response.clientSecret,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(response.clientSecretExpiresAt)))
    }

    public func startDeviceAuthorization(_ registration: SSOClientRegistration, startURL: String) async throws(SSOError) -> SSODeviceAuthorization {
        struct Request: Encodable {
            var clientId: String
            var clientSecret: Secret
            var startUrl: String
        }
        struct Response: Decodable {
            var deviceCode: Secret
            var userCode: String
            var verificationUri: String
            var verificationUriComplete: String?
            var expiresIn: Int
            var interval: Int?
        }
        let response = try await http.call(
            "StartDeviceAuthorization", method: .POST, url: endpoint + "/device_authorization",
            body: Request(clientId: registration.clientId, clientSecret: registration.clientSecret, startUrl: startURL),
            secrets: [registration.clientSecret], as: Response.self)
        return SSODeviceAuthorization(
            deviceCode: response.deviceCode, userCode: response.userCode, verificationURI: response.verificationUri,
            verificationURIComplete: response.verificationUriComplete, expiresIn: response.expiresIn,
            interval: max(response.interval ?? 5, 1))
    }

    public func createToken(_ registration: SSOClientRegistration, grant: SSOTokenGrant) async throws(SSOError) -> SSOTokenResponse {
        struct Request: Encodable {
            var clientId: String
            var clientSecret: Secret
            var grantType: String
            var deviceCode: Secret?
            var code: Secret?
            var codeVerifier: Secret?
            var redirectUri: String?
            var refreshToken: Secret?
        }
        struct Response: Decodable {
            var accessToken: Secret
            var expiresIn: Int
            var refreshToken: Secret?
        }
        var request = Request(clientId: registration.clientId, clientSecret: registration.clientSecret, grantType: grant.grantType)
        var secrets = [registration.clientSecret]
        switch grant {
        case .deviceCode(let code):
            request.deviceCode = code
            secrets.append(code)
        case .authorizationCode(let code, let verifier, let redirectURI):
            request.code = code
            request.codeVerifier = verifier
            request.redirectUri = redirectURI
            secrets += [code, verifier]
        case .refreshToken(let token):
            request.refreshToken = token
            secrets.append(token)
        }
        let response = try await http.call("CreateToken", method: .POST, url: endpoint + "/token", body: request, secrets: secrets, as: Response.self)
        guard !response.accessToken.isEmpty, response.expiresIn > 0 else {
            throw SSOError(kind: .malformedResponse, operation: "CreateToken", message: "the answer holds no access token or no lifetime")
        }
        return SSOTokenResponse(accessToken: response.accessToken, expiresIn: response.expiresIn, refreshToken: response.refreshToken)
    }
}
