import CreddCore
import CreddTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import CreddEndpoint

/// The request-handling core, driven directly: every route, status and refusal.
struct EndpointRouterTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    let clock = ManualWallClock(Self.start)
    let source = FakeCredentialSource()
    let credentials = FakeCredentials.make(expiration: Self.start.addingTimeInterval(3600))

    func makeRouter(imdsProfile: String? = "dev", tokenCapacity: Int = 16) -> EndpointRouter {
        source.set(.available(credentials, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: Self.start), for: "dev")
        source.set(.available(credentials, roleArn: nil, lastUpdated: Self.start), for: "mfa")
        return EndpointRouter(
            imdsProfile: imdsProfile,
            containerToken: TestEndpoint.containerToken,
            tokens: IMDSTokenStore(capacity: tokenCapacity, wallClock: clock),
            source: source,
            wallClock: clock
        )
    }

    static func head(_ method: HTTPMethod, _ uri: String, host: String? = "127.0.0.1:9911", _ headers: [(String, String)] = []) -> HTTPRequestHead {
        var fields = HTTPHeaders()
        if let host { fields.add(name: "Host", value: host) }
        for (name, value) in headers { fields.add(name: name, value: value) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
    }

    func token(_ router: EndpointRouter, ttl: String = "21600") async throws -> String {
        let response = router.respond(to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, ttl)]))
        try #require(response.status == .ok)
        return response.body
    }

    func json(_ response: EndpointResponse) throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8))
        return try #require(object as? [String: String])
    }

    @Test func imdsFlowServesTheConfiguredProfile() async throws {
        let router = makeRouter()
        let tokenResponse = router.respond(to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, "300")]))
        #expect(tokenResponse.status == .ok)
        #expect(tokenResponse.extraHeaders.contains { $0.name == EndpointRouter.tokenTTLHeader && $0.value == "300" })
        #expect(tokenResponse.body.count >= 43)
        #expect(tokenResponse.body.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        let token = tokenResponse.body

        let listing = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, token)]))
        #expect(listing.status == .ok)
        #expect(listing.body == "dev")

        let served = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath + "dev", [(EndpointRouter.tokenHeader, token)]))
        #expect(served.status == .ok)
        #expect(served.profile == "dev")
        let body = try json(served)
        #expect(
            body == [
                "Code": "Success",
                "LastUpdated": AWSTimestamp.format(Self.start),
                "Type": "AWS-HMAC",
                "AccessKeyId": credentials.accessKeyId,
                "SecretAccessKey": credentials.secretAccessKey.revealed,
                "Token": try #require(credentials.sessionToken).revealed,
                "Expiration": "2027-01-15T09:00:00Z",
                "AccountId": "222222222222",
            ])
    }

    @Test(arguments: [
        EndpointRouter.extendedRoleListPath, "/latest/meta-data/iam/security-credentials-extended",
        "//latest/meta-data/iam/security-credentials-extended/",
    ])
    func extendedPathListsAndServesWithAccountId(listing: String) async throws {
        let router = makeRouter()
        let token = try await token(router)
        let names = router.respond(to: Self.head(.GET, listing, [(EndpointRouter.tokenHeader, token)]))
        #expect(names.status == .ok)
        #expect(names.body == "dev")
        let served = router.respond(to: Self.head(.GET, EndpointRouter.extendedRoleListPath + "dev", [(EndpointRouter.tokenHeader, token)]))
        #expect(served.status == .ok)
        #expect(served.profile == "dev")
        let body = try json(served)
        #expect(body["Code"] == "Success")
        #expect(body["AccessKeyId"] == credentials.accessKeyId)
        #expect(body["AccountId"] == "222222222222")
        let withoutToken = router.respond(to: Self.head(.GET, EndpointRouter.extendedRoleListPath + "dev"))
        #expect(withoutToken.status == .unauthorized)
    }

    @Test func everyManagedProfileIsReachableByName() async throws {
        let router = makeRouter()
        let token = try await token(router)
        let served = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath + "mfa", [(EndpointRouter.tokenHeader, token)]))
        #expect(served.status == .ok)
        #expect(served.profile == "mfa")
    }

    @Test(arguments: ["0", "21601", "-1", "+5", "abc", "", " 5", "5.0", "999999", "0x10"])
    func badTokenTTLIsRefusedWith400(ttl: String) async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, ttl)]))
        #expect(response.status == .badRequest)
        #expect(router.tokens.count == 0)
    }

    @Test func missingOrRepeatedTokenTTLIsRefusedWith400() async {
        let router = makeRouter()
        let missing = router.respond(to: Self.head(.PUT, "/latest/api/token"))
        #expect(missing.status == .badRequest)
        let twice = router.respond(
            to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, "60"), (EndpointRouter.tokenTTLHeader, "60")])
        )
        #expect(twice.status == .badRequest)
    }

    @Test(arguments: ["1", "21600", "00060"])
    func tokenTTLBoundsAreAccepted(ttl: String) async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, ttl)]))
        #expect(response.status == .ok)
    }

    @Test(arguments: ["/2021-03-23/api/token", "/latest/api/token/", "/latest/meta-data/", "/v1/credentials/dev"])
    func putElsewhereIsForbidden(path: String) async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.PUT, path, [(EndpointRouter.tokenTTLHeader, "60")]))
        #expect(response.status == .forbidden)
    }

    @Test func imdsGetWithoutTokenIs401() async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath + "dev"))
        #expect(response.status == .unauthorized)
        #expect(!response.body.contains(credentials.accessKeyId))
    }

    @Test func imdsGetWithUnknownTokenIs401() async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, "not-a-token")]))
        #expect(response.status == .unauthorized)
    }

    @Test func expiredImdsTokenIs401() async throws {
        let router = makeRouter()
        let token = try await token(router, ttl: "60")
        clock.advance(by: 59)
        let before = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, token)]))
        #expect(before.status == .ok)
        clock.advance(by: 1)
        let after = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, token)]))
        #expect(after.status == .unauthorized)
    }

    @Test(arguments: [
        "/latest/meta-data/iam/security-credentials-extended/nosuch",
        "/latest/meta-data/iam/security-credentials-extended/dev/extra",
        "/latest/meta-data/iam/security-credentials-extendedx/dev",
        "/latest/meta-data/",
        "/latest/meta-data/iam/info",
        "/latest/meta-data/iam/security-credentials/dev/extra",
        "/latest/meta-data/iam/security-credentials/nosuch",
        "/latest/dynamic/instance-identity/document",
    ])
    func unknownImdsPathsAndProfilesAre404(path: String) async throws {
        let router = makeRouter()
        let token = try await token(router)
        let response = router.respond(to: Self.head(.GET, path, [(EndpointRouter.tokenHeader, token)]))
        #expect(response.status == .notFound)
        #expect(!response.body.contains("Success"))
    }

    @Test func roleListingWithoutImdsProfileIs404() async throws {
        let router = makeRouter(imdsProfile: nil)
        let token = try await token(router)
        let response = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, token)]))
        #expect(response.status == .notFound)
    }

    @Test func containerApiServesWithTheRightToken() async throws {
        let router = makeRouter()
        let response = router.respond(
            to: Self.head(.GET, "/v1/credentials/dev", [("Authorization", TestEndpoint.containerToken.revealed), ("Accept", "application/json")])
        )
        #expect(response.status == .ok)
        #expect(response.contentType == "application/json")
        #expect(
            try json(response) == [
                "AccessKeyId": credentials.accessKeyId,
                "SecretAccessKey": credentials.secretAccessKey.revealed,
                "Token": try #require(credentials.sessionToken).revealed,
                "Expiration": "2027-01-15T09:00:00Z",
                "RoleArn": "arn:aws:iam::222222222222:role/Developer",
                "AccountId": "222222222222",
            ])
        let session = router.respond(to: Self.head(.GET, "/v1/credentials/mfa", [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(try json(session)["RoleArn"] == nil)
    }

    @Test(arguments: [
        [],
        [("Authorization", "wrong")],
        [("Authorization", "Bearer " + TestEndpoint.containerToken.revealed)],
        [("Authorization", String(TestEndpoint.containerToken.revealed.dropLast()))],
        [("Authorization", TestEndpoint.containerToken.revealed), ("Authorization", TestEndpoint.containerToken.revealed)],
    ])
    func containerApiWithoutTheTokenIs401(headers: [(String, String)]) async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.GET, "/v1/credentials/dev", headers))
        #expect(response.status == .unauthorized)
        #expect(!response.body.contains(credentials.accessKeyId))
        #expect(!response.body.contains(TestEndpoint.containerToken.revealed))
    }

    @Test func containerApiPercentDecodesProfileNames() async throws {
        let router = makeRouter()
        source.set(.available(credentials, roleArn: nil, lastUpdated: Self.start), for: "team dev@eu")
        let response = router.respond(
            to: Self.head(.GET, "/v1/credentials/team%20dev%40eu", [("Authorization", TestEndpoint.containerToken.revealed)])
        )
        #expect(response.status == .ok)
        let nested = router.respond(
            to: Self.head(.GET, "/v1/credentials/dev%2Fx", [("Authorization", TestEndpoint.containerToken.revealed)])
        )
        #expect(nested.status == .notFound)
    }

    /// The target is split on its bytes: a query or fragment ends the path even where a combining
    /// mark follows, and a slash nests the name whatever follows it.
    @Test(arguments: [
        ("/v1/credentials/dev?x=1", HTTPResponseStatus.ok), ("/v1/credentials/dev#top", .ok), ("/v1/credentials/dev?\u{301}", .ok),
        ("/v1/credentials/dev/\u{301}", .notFound), ("/v1/credentials/\u{301}dev", .notFound),
    ])
    func targetsSplitOnTheirBytes(target: String, status: HTTPResponseStatus) {
        let response = makeRouter().respond(to: Self.head(.GET, target, [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(response.status == status)
    }

    enum Unservable: String, CaseIterable {
        case expired, expiresNow, unavailable, incomplete, longTermKeys, noToken
    }

    @Test(arguments: Unservable.allCases)
    func profilesWithoutValidCredentialsNeverAnswerSuccess(kind: Unservable) async throws {
        let router = makeRouter()
        let lookup: EndpointLookup
        switch kind {
        case .expired:
            lookup = .available(FakeCredentials.make(expiration: Self.start.addingTimeInterval(-1)), roleArn: nil, lastUpdated: Self.start)
        case .expiresNow:
            lookup = .available(FakeCredentials.make(expiration: Self.start), roleArn: nil, lastUpdated: Self.start)
        case .unavailable:
            lookup = .unavailable(reason: "MFA code needed; run `credd login dev`")
        case .incomplete:
            lookup = .available(
                AWSCredentials(
                    accessKeyId: "", secretAccessKey: Secret("s"), sessionToken: Secret("t"), expiration: Self.start.addingTimeInterval(3600)),
                roleArn: nil, lastUpdated: Self.start
            )
        case .longTermKeys:
            lookup = .available(
                AWSCredentials(accessKeyId: "AKIAFAKEEXAMPLE00001", secretAccessKey: Secret("long-term-secret")), roleArn: nil,
                lastUpdated: Self.start)
        case .noToken:
            lookup = .available(
                AWSCredentials(
                    accessKeyId: "ASIAFAKE", secretAccessKey: Secret("secret-no-token"), sessionToken: nil,
                    expiration: Self.start.addingTimeInterval(3600)),
                roleArn: nil, lastUpdated: Self.start
            )
        }
        source.set(lookup, for: "broken")
        let token = try await token(router)
        let responses = [
            router.respond(to: Self.head(.GET, EndpointRouter.roleListPath + "broken", [(EndpointRouter.tokenHeader, token)])),
            router.respond(to: Self.head(.GET, "/v1/credentials/broken", [("Authorization", TestEndpoint.containerToken.revealed)])),
        ]
        for response in responses {
            #expect(response.status == .serviceUnavailable)
            let body = try json(response)
            #expect(body["Code"] == "CredentialsUnavailable")
            #expect(body["Message"]?.isEmpty == false)
            #expect(body["AccessKeyId"] == nil)
            #expect(!response.body.contains("Success"))
            #expect(!response.body.contains("secret"))
            #expect(!response.body.contains("fakeSecret"))
        }
    }

    @Test func unknownProfileIs404() async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.GET, "/v1/credentials/nosuch", [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(response.status == .notFound)
    }

    @Test(arguments: ["//latest/api/token", "/latest//api/token", "///latest/api///token"])
    func repeatedSlashesCountAsOne(path: String) async throws {
        let router = makeRouter()
        let issued = router.respond(to: Self.head(.PUT, path, [(EndpointRouter.tokenTTLHeader, "60")]))
        #expect(issued.status == .ok)
        let credentials = router.respond(
            to: Self.head(.GET, "//latest/meta-data/iam//security-credentials/dev", [(EndpointRouter.tokenHeader, issued.body)]))
        #expect(credentials.status == .ok)
        let container = router.respond(to: Self.head(.GET, "//v1/credentials//dev", [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(container.status == .ok)
    }

    @Test(arguments: ["/", "/a//b", "/latest//", "/v1/credentials/dev", "", "x//y//z"])
    func collapsingRepeatedSlashesMatchesAPlainDefinition(path: String) {
        let expected = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        let collapsed = EndpointRouter.collapsingRepeatedSlashes(path[...])
        #expect(collapsed.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/") == expected)
        #expect(!collapsed.contains("//"))
        #expect(collapsed.hasPrefix("/") == path.hasPrefix("/"))
    }

    @Test(arguments: [
        "attacker.example", "attacker.example:9911", "127.0.0.1.nip.io", "10.0.0.1", "[::2]:80", "localhost.attacker.example", "127.0.0.1:", "127.1",
        "[::1]x",
    ])
    func foreignHostIsRefusedWith403(host: String) async {
        let router = makeRouter()
        let response = router.respond(
            to: Self.head(.GET, "/v1/credentials/dev", host: host, [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(response.status == .forbidden)
        #expect(!response.body.contains(credentials.accessKeyId))
    }

    @Test func missingOrDuplicateHostIs400() async {
        let router = makeRouter()
        let missing = router.respond(to: Self.head(.GET, "/v1/credentials/dev", host: nil))
        #expect(missing.status == .badRequest)
        let twice = router.respond(to: Self.head(.GET, "/v1/credentials/dev", [("Host", "127.0.0.1")]))
        #expect(twice.status == .badRequest)
    }

    @Test(arguments: [
        ("Origin", "https://attacker.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("X-Forwarded-For", "10.1.2.3"),
        ("X-Forwarded-Host", "example.com"),
        ("x-forwarded-proto", "http"),
        ("Forwarded", "for=10.1.2.3"),
        ("Via", "1.1 tinyproxy (tinyproxy/1.11.1)"),
        ("X-Real-IP", "10.1.2.3"),
        ("Client-IP", "10.1.2.3"),
        ("True-Client-IP", "10.1.2.3"),
    ])
    func browserAndProxiedRequestsAreRefusedWith403(header: String, value: String) async throws {
        let router = makeRouter()
        let token = try await token(router)
        let requests = [
            Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, "60"), (header, value)]),
            Self.head(.GET, EndpointRouter.roleListPath + "dev", [(EndpointRouter.tokenHeader, token), (header, value)]),
            Self.head(.GET, "/v1/credentials/dev", [("Authorization", TestEndpoint.containerToken.revealed), (header, value)]),
        ]
        for request in requests {
            let response = router.respond(to: request)
            #expect(response.status == .forbidden)
            #expect(!response.body.contains(credentials.accessKeyId))
        }
    }

    @Test func sameOriginFetchMetadataIsAllowed() async {
        let router = makeRouter()
        let response = router.respond(
            to: Self.head(.GET, "/v1/credentials/dev", [("Authorization", TestEndpoint.containerToken.revealed), ("Sec-Fetch-Site", "none")])
        )
        #expect(response.status == .ok)
    }

    @Test func corsPreflightIsRefusedWith403() async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.OPTIONS, "/v1/credentials/dev", [("Access-Control-Request-Method", "GET")]))
        #expect(response.status == .forbidden)
    }

    @Test(arguments: [[("Content-Length", "5")], [("Transfer-Encoding", "chunked")]])
    func requestsWithBodiesAreRefusedWith413(headers: [(String, String)]) async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.PUT, "/latest/api/token", [(EndpointRouter.tokenTTLHeader, "60")] + headers))
        #expect(response.status == .payloadTooLarge)
        #expect(response.closesConnection)
    }

    @Test func otherMethodsAre405() async {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.POST, "/v1/credentials/dev"))
        #expect(response.status == .methodNotAllowed)
    }

    @Test func headAnswersLikeGet() async throws {
        let router = makeRouter()
        let response = router.respond(to: Self.head(.HEAD, "/v1/credentials/dev", [("Authorization", TestEndpoint.containerToken.revealed)]))
        #expect(response.status == .ok)
    }

    @Test func unknownPathsAre404() async {
        let router = makeRouter()
        for path in ["/", "/v1/credentials/", "/v2/credentials/dev", "/latest"] {
            let response = router.respond(to: Self.head(.GET, path, [("Authorization", TestEndpoint.containerToken.revealed)]))
            #expect(response.status == .notFound, "\(path)")
        }
        let absolute = router.respond(to: Self.head(.GET, "http://127.0.0.1/v1/credentials/dev"))
        #expect(absolute.status == .badRequest)
    }

    @Test func tokenStoreStaysBounded() async throws {
        let router = makeRouter(tokenCapacity: 4)
        let first = try await token(router)
        for _ in 0..<10 { _ = try await token(router) }
        #expect(router.tokens.count == 4)
        let evicted = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, first)]))
        #expect(evicted.status == .unauthorized)
    }

    @Test func expiredTokensAreDroppedBeforeLiveOnes() async throws {
        let router = makeRouter(tokenCapacity: 2)
        _ = try await token(router, ttl: "1")
        let live = try await token(router, ttl: "600")
        clock.advance(by: 5)
        _ = try await token(router, ttl: "600")
        let response = router.respond(to: Self.head(.GET, EndpointRouter.roleListPath, [(EndpointRouter.tokenHeader, live)]))
        #expect(response.status == .ok)
    }

    @Test func jsonEscapesUnusualValues() throws {
        let text = JSONText.object([(key: "Message", value: "a \"quoted\" \\ path\n\u{01}é")])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(object["Message"] == "a \"quoted\" \\ path\n\u{01}é")
    }

    @Test func accountIdComesFromTheCredentialsElseTheRoleArn() throws {
        let withAccount = credentials.withAccountId("333333333333")
        let session = PublishedCredentials(withAccount, roleArn: nil, lastUpdated: Self.start)
        let role = PublishedCredentials(withAccount, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: Self.start)
        let unknown = PublishedCredentials(credentials, roleArn: nil, lastUpdated: Self.start)
        for (published, account) in [(session, "333333333333"), (role, "333333333333"), (unknown, nil)] as [(PublishedCredentials, String?)] {
            let responses = try #require(published.servableResponses(at: Self.start))
            #expect(try json(responses.imds)["AccountId"] == account)
            #expect(try json(responses.container)["AccountId"] == account)
        }
    }
}
