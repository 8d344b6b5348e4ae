import CreddCore
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

/// credd's OIDC and portal clients against the fake, whose wire format boto3 vouches for.
@Suite(.serialized) struct SSOClientTests {
    /// boto3's own `sso-oidc` and `sso` clients call every operation credd uses against the fake,
    /// errors included; its GetRoleCredentials mints credentials moto's STS accepts.
    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
    func theFakeSpeaksBotocoresWireFormat() async throws {
        let fake = try await FakeSSO.start(withMoto: true)
        defer { Task { await fake.stop() } }
        let moto = try #require(fake.moto)
        let result = try await ChildProcess.runOnDedicatedThread(
            ["python3", try FakeSSO.fixture("boto3_conformance.py"), fake.endpoint, moto.endpoint], environment: FakeSSO.pythonEnvironment,
            timeout: 120)
        try #require(result.status == 0, "\(result.stderr.suffix(1500))")
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for check in ["pending", "slow_down", "expired", "pkce_replay_refused", "rotated", "unauthorized", "too_many", "invalid_grant"] {
            #expect(findings[check] as? Bool == true, "\(check)")
        }
        #expect((findings["caller"] as? String)?.hasSuffix(":assumed-role/Developer/fake-sso") == true)
        #expect(findings["accounts"] as? [String] == ["111111111111", "222222222222", "333333333333"])
        #expect(findings["roles"] as? [String] == ["Developer", "ReadOnly", "Admin"])
    }

    @Test func endpointsFollowTheSDKVariables() {
        let defaults = SSOEndpoints(region: "eu-west-1", environment: [:])
        #expect(defaults.oidc == "https://oidc.eu-west-1.amazonaws.com")
        #expect(defaults.portal == "https://portal.sso.eu-west-1.amazonaws.com")
        let overridden = SSOEndpoints(
            region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_SSO_OIDC": "http://127.0.0.1:1/", "AWS_ENDPOINT_URL_SSO": "http://127.0.0.1:2"])
        #expect(overridden.oidc == "http://127.0.0.1:1")
        #expect(overridden.portal == "http://127.0.0.1:2")
        #expect(SSOEndpoints(region: "us-east-1", environment: ["AWS_ENDPOINT_URL_SSO": ""]).portal == "https://portal.sso.us-east-1.amazonaws.com")
    }

    /// Every grant, role credentials with a millisecond expiry, paginated listings, and the
    /// errors that mean "sign in again", none of which carries a secret.
    @Test func everyCallAndItsErrorsAgainstTheFake() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        try await fake.configure([
            "pending_polls": 1,
            "accounts": (1...5).map {
                ["accountId": String(repeating: String($0), count: 12), "accountName": "a\($0)", "emailAddress": "e@x", "roles": ["R1", "R2", "R3"]]
            },
        ])
        let oidc = fake.oidc
        let portal = fake.portal

        // Device code: pending first, then the token.
        let device = try await oidc.registerClient(name: "credd", scopes: ["sso:account:access"], issuerURL: nil)
        #expect(device.expiresAt > Date().addingTimeInterval(80 * 86_400))
        let authorization = try await oidc.startDeviceAuthorization(device, startURL: corpSession.startURL)
        #expect(authorization.interval == 1 && authorization.expiresIn == 600)
        #expect(authorization.verificationURIComplete?.contains(authorization.userCode) == true)
        let pending = await #expect(throws: SSOError.self) {
            try await oidc.createToken(device, grant: .deviceCode(authorization.deviceCode))
        }
        #expect(pending?.code == "AuthorizationPendingException")
        #expect(pending?.requestId != nil)
        let first = try await oidc.createToken(device, grant: .deviceCode(authorization.deviceCode))
        #expect(first.expiresIn == 3600)
        let refreshToken = try #require(first.refreshToken)

        // Refresh: a new access token and a rotated refresh token.
        let refreshed = try await oidc.createToken(device, grant: .refreshToken(refreshToken))
        #expect(refreshed.accessToken != first.accessToken)
        #expect(refreshed.refreshToken != nil && refreshed.refreshToken != refreshToken)

        // A spent refresh token is refused as invalid_grant, without the token in the error.
        let reused = await #expect(throws: SSOError.self) {
            try await oidc.createToken(device, grant: .refreshToken(refreshToken))
        }
        #expect(reused?.code == "InvalidGrantException")
        #expect(reused.map { !$0.isTransient && $0.needsLogin } == true)
        expectNoSecrets(String(describing: reused), [refreshToken, device.clientSecret])

        // GetRoleCredentials: expiration arrives in epoch milliseconds.
        let before = Date()
        let credentials = try await portal.roleCredentials(accountId: "111111111111", roleName: "R2", accessToken: refreshed.accessToken)
        let expiration = try #require(credentials.expiration)
        #expect(abs(expiration.timeIntervalSince(before) - 3600) < 30)
        #expect(credentials.isComplete)
        expectNoSecrets(String(describing: credentials), [credentials.secretAccessKey, credentials.sessionToken])

        // Listings follow next_token; the page size never exceeds the portal's 100.
        let accounts = try await portal.accounts(accessToken: refreshed.accessToken, pageSize: 2)
        #expect(accounts.map(\.accountId) == (1...5).map { String(repeating: String($0), count: 12) })
        let roles = try await portal.roles(accountId: "333333333333", accessToken: refreshed.accessToken, pageSize: 500)
        #expect(roles.map(\.roleName) == ["R1", "R2", "R3"])
        let pages = try #require((try await fake.state()["last"] as? [String: Any])?["pages"] as? [[String: Any?]])
        #expect(pages.map { $0["max_result"] as? String } == ["2", "2", "2", "100"])
        #expect(pages.prefix(3).map { $0["next_token"] as? String } == [nil, "2", "4"])

        // A token the portal does not know: UnauthorizedException, which means sign in again.
        let bogus = Secret("bogus-access-token")
        let unauthorized = await #expect(throws: SSOError.self) {
            try await portal.roleCredentials(accountId: "111111111111", roleName: "R1", accessToken: bogus)
        }
        #expect(unauthorized?.code == "UnauthorizedException" && unauthorized?.httpStatus == 401 && unauthorized?.needsLogin == true)
        expectNoSecrets(String(describing: unauthorized), [bogus])
        let missing = await #expect(throws: SSOError.self) {
            try await portal.roles(accountId: "999999999999", accessToken: refreshed.accessToken)
        }
        #expect(missing?.code == "ResourceNotFoundException")
        #expect(missing.map { $0.nextStep.contains("sso_account_id") } == true)

        // The session ends: the current refresh token is refused too.
        try await fake.endSession()
        let ended = await #expect(throws: SSOError.self) {
            try await oidc.createToken(device, grant: .refreshToken(try #require(refreshed.refreshToken)))
        }
        #expect(ended?.code == "InvalidGrantException")
    }

    /// Roles of many accounts, a few at a time: a throttled call is tried again, an account the
    /// portal does not know ends the walk with its error.
    @Test func rolesOfManyAccountsSurviveThrottling() async throws {
        let fake = try await FakeSSO.start()
        defer { Task { await fake.stop() } }
        let ids = (0..<12).map { String(format: "3%011d", $0) }
        try await fake.configure([
            "accounts": ids.map { ["accountId": $0, "accountName": "a\($0)", "emailAddress": "e@x", "roles": ["R-\($0)"]] },
            "throttle_roles": 3,
        ])
        let registration = try await fake.oidc.registerClient(name: "credd", scopes: ["sso:account:access"], issuerURL: nil)
        let authorization = try await fake.oidc.startDeviceAuthorization(registration, startURL: corpSession.startURL)
        let token = try await fake.oidc.createToken(registration, grant: .deviceCode(authorization.deviceCode)).accessToken

        let roles = try await fake.portal.roles(ofAccounts: ids, accessToken: token)
        #expect(roles.count == 12 && ids.allSatisfy { roles[$0]?.map(\.roleName) == ["R-\($0)"] })
        #expect(try await fake.count("GET /assignment/roles") == 15)

        let missing = await #expect(throws: SSOError.self) {
            try await fake.portal.roles(ofAccounts: ids + ["999999999999"], accessToken: token)
        }
        #expect(missing?.code == "ResourceNotFoundException")
    }

    @Test func noAnswerIsATransientTransportError() async throws {
        let http = SSOHTTP(configuration: .init(connectTimeout: .seconds(2), requestTimeout: .seconds(5)))
        defer { Task { try? await http.shutdown() } }
        let port = try FreePort.find()
        let registration = SSOClientRegistration(clientId: "c", clientSecret: Secret("client-secret-x"), expiresAt: Date.distantFuture)
        let error = await #expect(throws: SSOError.self) {
            try await SSOOIDCClient(http: http, endpoint: "http://127.0.0.1:\(port)").createToken(
                registration, grant: .refreshToken(Secret("refresh-x")))
        }
        #expect(error?.kind == .transport && error?.isTransient == true)
        #expect(error.map { $0.nextStep.contains("AWS_ENDPOINT_URL_SSO_OIDC") } == true)
        expectNoSecrets(String(describing: error), [Secret("client-secret-x"), Secret("refresh-x")])
    }
}
