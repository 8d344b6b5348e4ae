import CreddCore
import CreddSigV4
import FoundationEssentials
import NIOCore
import NIOPosix

/// An Identity Center session as `[sso-session NAME]` (or a legacy profile) defines it.
public struct SSOSession: Sendable, Hashable {
    /// The sso-session's name; `nil` for a legacy profile with `sso_start_url` on the profile.
    public let name: String?
    public let startURL: String
    public let region: String
    /// `sso_registration_scopes`; without them the token cannot be refreshed.
    public let scopes: [String]

    public init(name: String?, startURL: String, region: String, scopes: [String]) {
        self.name = name
        self.startURL = startURL
        self.region = region
        self.scopes = scopes
    }
}

/// The two sign-in flows `credd login SESSION` runs: the authorization-code flow with PKCE (a
/// browser and a loopback redirect) and the device authorization flow (a code the user types).
/// Both register a client only when the cache has no valid registration, and store the token
/// in the cache shared with the AWS CLI.
public struct SSOLogin: Sendable {
    public let oidc: SSOOIDCClient
    public let cache: SSOTokenCache
    public let wallClock: any WallClock
    /// The `clientName` sent to RegisterClient.
    public var clientName = "credd"

    public init(oidc: SSOOIDCClient, cache: SSOTokenCache, wallClock: any WallClock) {
        self.oidc = oidc
        self.cache = cache
        self.wallClock = wallClock
    }

    /// The device flow: shows the verification URL and user code through `prompt`, then polls
    /// CreateToken every `interval` seconds on `clock` until the user approves, handling
    /// `AuthorizationPendingException` (keep polling), `SlowDownException` (5 s more between
    /// polls) and `ExpiredTokenException` (stop).
    public func loginWithDeviceCode<C: Clock<Duration>>(
        _ session: SSOSession, clock: C, prompt: @Sendable (SSODeviceAuthorization) -> Void
    ) async throws(SSOError) -> SSOToken {
        let registration = try await registration(for: session, grantType: nil)
        let authorization = try await oidc.startDeviceAuthorization(registration, startURL: session.startURL)
        prompt(authorization)
        let deadline = clock.now.advanced(by: .seconds(authorization.expiresIn))
        var interval = authorization.interval
        while true {
            do {
                try await clock.sleep(until: clock.now.advanced(by: .seconds(interval)), tolerance: nil)
            } catch {
                throw SSOError(kind: .loginFailed, operation: "sign-in", message: "cancelled while waiting for the approval")
            }
            guard clock.now < deadline else {
                throw SSOError(kind: .loginFailed, operation: "sign-in", message: "the code \(authorization.userCode) expired before it was approved")
            }
            do throws(SSOError) {
                let response = try await oidc.createToken(registration, grant: .deviceCode(authorization.deviceCode))
                return try store(response, registration: registration, session: session)
            } catch {
                switch error.code {
                case "AuthorizationPendingException":
                    continue
                case "SlowDownException":
                    interval += 5
                case "ExpiredTokenException":
                    throw SSOError(
                        kind: .loginFailed, code: error.code, operation: "sign-in",
                        message: "the code \(authorization.userCode) expired before it was approved", requestId: error.requestId)
                default:
                    throw error
                }
            }
        }
    }

    /// The authorization-code flow with PKCE: listens on 127.0.0.1, opens `{oidc}/authorize`
    /// with `openBrowser` (`xdg-open` in the CLI), waits up to `timeout` on `clock` for the
    /// redirect carrying the code and the right `state`, then exchanges the code.
    public func loginWithBrowser<C: Clock<Duration>>(
        _ session: SSOSession, clock: C, timeout: Duration = .seconds(300), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        openBrowser: @escaping @Sendable (String) async throws -> Void
    ) async throws(SSOError) -> SSOToken {
        let registration = try await registration(for: session, grantType: "authorization_code")
        var random = SystemRandomNumberGenerator()
        let pkce = PKCE(using: &random)
        let state = PKCE(using: &random).verifier
        let endpoint = oidc.endpoint
        let scopes = session.scopes
        let (code, port) = try await RedirectListener.waitForCode(state: state, group: group) { (port: Int) throws(SSOError) in
            let url = Self.authorizeURL(
                endpoint: endpoint, clientId: registration.clientId, redirectURI: Self.redirectURI(port: port), state: state,
                challenge: pkce.challenge, scopes: scopes)
            do {
                try await openBrowser(url)
            } catch {
                throw SSOError(kind: .loginFailed, operation: "sign-in", message: "cannot open the browser: \(error); use --device-code")
            }
            do {
                try await clock.sleep(until: clock.now.advanced(by: timeout), tolerance: nil)
            } catch {
                throw SSOError(kind: .loginFailed, operation: "sign-in", message: "cancelled while waiting for the browser")
            }
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "no sign-in arrived from the browser within \(timeout)")
        }
        let response = try await oidc.createToken(
            registration,
            grant: .authorizationCode(code: code, codeVerifier: Secret(pkce.verifier), redirectURI: Self.redirectURI(port: port)))
        return try store(response, registration: registration, session: session)
    }

    public static func redirectURI(port: Int) -> String { "http://127.0.0.1:\(port)\(RedirectListener.callbackPath)" }

    /// `{oidc}/authorize?response_type=code&client_id=…&redirect_uri=…&state=…&code_challenge_method=S256&scopes=…&code_challenge=…`
    public static func authorizeURL(
        endpoint: String, clientId: String, redirectURI: String, state: String, challenge: String, scopes: [String]
    ) -> String {
        let parameters = [
            ("response_type", "code"), ("client_id", clientId), ("redirect_uri", redirectURI), ("state", state),
            ("code_challenge_method", "S256"), ("scopes", scopes.joined(separator: ",")), ("code_challenge", challenge),
        ]
        return endpoint + "/authorize?" + parameters.map { "\($0)=\(SigV4Encoding.percentEncode($1))" }.joined(separator: "&")
    }

    /// A registration from the cache when one is valid for the grant, else RegisterClient (cached for next time).
    func registration(for session: SSOSession, grantType: String?) async throws(SSOError) -> SSOClientRegistration {
        let now = wallClock.now()
        // A day's margin: a registration about to expire would leave the new token unrefreshable.
        let validUntil = now.addingTimeInterval(24 * 3600)
        let registrations = SSORegistrationCache(tokens: cache)
        if let name = session.name,
            let cached = registrations.load(
                sessionName: name, startURL: session.startURL, region: session.region, scopes: session.scopes, grantType: grantType, now: validUntil)
        {
            return cached
        }
        let registration = try await oidc.registerClient(
            name: clientName, scopes: session.scopes, issuerURL: grantType == nil ? nil : session.startURL)
        if let name = session.name {
            try registrations.store(
                registration, sessionName: name, startURL: session.startURL, region: session.region, scopes: session.scopes,
                grantTypes: grantType == nil ? [] : ["authorization_code", "refresh_token"])
        }
        return registration
    }

    /// Writes the new token to the cache, keeping the fields other programs added to the old one.
    private func store(_ response: SSOTokenResponse, registration: SSOClientRegistration, session: SSOSession) throws(SSOError) -> SSOToken {
        let previous = try? cache.load(sessionName: session.name, startURL: session.startURL)
        let token = SSOToken(
            startURL: session.startURL, region: session.region, accessToken: response.accessToken,
            expiresAt: SSOToken.expiry(issuedAt: wallClock.now(), lifetime: response.expiresIn), clientId: registration.clientId,
            clientSecret: registration.clientSecret, registrationExpiresAt: registration.expiresAt, refreshToken: response.refreshToken,
            otherFields: previous?.otherFields ?? [:])
        try cache.store(token, sessionName: session.name)
        return token
    }
}
