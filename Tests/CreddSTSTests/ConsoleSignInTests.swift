import CreddCore
import CreddSTS
import Foundation
import Testing

/// The federation exchange as a value: which endpoint, the exact request, the answer, the URL.
struct ConsoleSignInTests {
    static let signinToken = "FAKEsigninTOKEN-never-printed-but-by-print-0123456789"

    @Test(arguments: [
        (
            "arn:aws:iam::123456789012:role/Dev", "eu-west-1", "https://signin.aws.amazon.com/federation",
            "https://console.aws.amazon.com/console/home?region=eu-west-1"
        ),
        (
            "arn:aws-cn:iam::123456789012:role/Dev", "cn-north-1", "https://signin.amazonaws.cn/federation",
            "https://console.amazonaws.cn/console/home?region=cn-north-1"
        ),
        (
            "arn:aws-us-gov:iam::123456789012:role/Dev", nil, "https://signin.amazonaws-us-gov.com/federation",
            "https://console.amazonaws-us-gov.com/"
        ),
    ])
    func thePartitionOfTheRoleChoosesTheHosts(roleArn: String, region: String?, federation: String, destination: String) {
        let signIn = ConsoleSignIn(roleArn: roleArn, region: region, environment: [:])
        #expect(signIn.federationEndpoint == federation)
        #expect(signIn.destination == destination)
    }

    @Test func theEnvironmentReplacesTheFederationEndpointOnly() {
        let signIn = ConsoleSignIn(
            roleArn: "arn:aws:iam::123456789012:role/Dev", region: nil,
            environment: [ConsoleSignIn.endpointVariable: "http://127.0.0.1:1234/federation"])
        #expect(signIn.federationEndpoint == "http://127.0.0.1:1234/federation")
        #expect(signIn.destination == "https://console.aws.amazon.com/")
    }

    @Test func theTokenRequestIsAGetCarryingTheSessionAsJSON() throws {
        let signIn = ConsoleSignIn(federationEndpoint: "https://signin.aws.amazon.com/federation", destination: "https://console.aws.amazon.com/")
        let request = try signIn.tokenRequest(for: Fake.session)
        #expect(request.method == .get)
        #expect(request.body.isEmpty)
        let components = try #require(URLComponents(url: request.url, resolvingAgainstBaseURL: false))
        #expect(components.host == "signin.aws.amazon.com" && components.path == "/federation")
        let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(query["Action"] == "getSigninToken")
        #expect(query["SessionDuration"] == nil, "credd leaves the console session's length to the endpoint")
        let session = try JSONDecoder().decode([String: String].self, from: Data((query["Session"] ?? "").utf8))
        #expect(session == ["sessionId": Fake.session.accessKeyId, "sessionKey": Fake.secretKey, "sessionToken": Fake.sessionToken])
    }

    @Test func credentialsWithoutASessionTokenCannotSignIn() {
        let signIn = ConsoleSignIn(roleArn: "arn:aws:iam::123456789012:role/Dev", region: nil, environment: [:])
        #expect(throws: ConsoleSignInError(.invalidRequest, endpoint: signIn.federationEndpoint)) { try signIn.tokenRequest(for: Fake.longTerm) }
    }

    @Test func theLoginURLCarriesTheTokenAndTheDestination() async throws {
        let signIn = ConsoleSignIn(roleArn: "arn:aws:iam::123456789012:role/Dev", region: "eu-west-1", environment: [:])
        let transport = FakeTransport([.response(TransportResponse(status: 200, body: Array(#"{"SigninToken":"\#(Self.signinToken)"}"#.utf8)))])
        let url = try await signIn.loginURL(for: Fake.session, transport: transport)
        #expect(
            url.revealed == "https://signin.aws.amazon.com/federation?Action=login&Issuer=credd"
                + "&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1"
                + "&SigninToken=\(Self.signinToken)")
        #expect("\(url)" == "<redacted>", "the URL is a secret")
        #expect(transport.sent.count == 1)
    }

    @Test(arguments: [
        (
            FakeTransport.Outcome.response(TransportResponse(status: 400, body: Array("Bad Request \(Fake.sessionToken)".utf8))),
            ConsoleSignInError.Kind.refused(status: 400)
        ),
        (.response(TransportResponse(status: 200, body: Array("<html>\(Fake.secretKey)</html>".utf8))), .malformedResponse),
        (.response(TransportResponse(status: 200, body: Array(#"{"SigninToken":""}"#.utf8))), .malformedResponse),
        (.failure(TransportError(kind: .connectionFailed, detail: "connection refused")), .transport(.connectionFailed)),
        (.failure(TransportError(kind: .timedOut, detail: "read timeout")), .transport(.timedOut)),
    ])
    func failuresSayWhatHappenedWithoutASecret(outcome: FakeTransport.Outcome, kind: ConsoleSignInError.Kind) async {
        let signIn = ConsoleSignIn(roleArn: "arn:aws:iam::123456789012:role/Dev", region: nil, environment: [:])
        do {
            _ = try await signIn.loginURL(for: Fake.session, transport: FakeTransport([outcome]))
            Issue.record("no error")
        } catch {
            #expect(error.kind == kind)
            #expect(error.description.contains("https://signin.aws.amazon.com/federation"))
            Fake.expectNoSecrets(error.description)
            Fake.expectNoSecrets("\(error)")
        }
    }
}
