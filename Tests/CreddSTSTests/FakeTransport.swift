import CreddCore
import CreddSTS
import CreddSigV4
import CreddTestSupport
import Foundation
import Synchronization
import Testing

/// A transport that replays scripted outcomes in order and records what was sent.
/// A call beyond the script is a test failure, not a silent default.
final class FakeTransport: STSTransport {
    enum Outcome: Sendable {
        case response(TransportResponse)
        case failure(TransportError)
    }

    private let state: Mutex<(script: [Outcome], sent: [TransportRequest])>

    init(_ script: [Outcome]) {
        state = Mutex((script, []))
    }

    var sent: [TransportRequest] { state.withLock { $0.sent } }
    var unusedOutcomes: Int { state.withLock { $0.script.count } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        let next: Outcome? = state.withLock { state in
            state.sent.append(request)
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        switch next {
        case .response(let response):
            return response
        case .failure(let error):
            throw error
        case .none:
            Issue.record("unexpected request #\(sent.count) to \(request.url)")
            throw TransportError(kind: .invalidRequest, detail: "FakeTransport: no scripted outcome left")
        }
    }
}

/// Fake secrets: every error and description is checked against these.
enum Fake {
    static let secretKey = "FAKEsecretKEY/do+not+leak0123456789abcd"
    static let sessionToken = "FAKEsessionTOKEN//////////do-not-leak-AQoDYXdzEJr"
    static let responseSecret = "RESPONSEsecretKEY/never/print/0987654321"
    static let responseToken = "RESPONSEsessionTOKEN//never//print"
    static let mfaCode = "123456"
    static let all = [secretKey, sessionToken, responseSecret, responseToken]

    static let longTerm = AWSCredentials(accessKeyId: "AKIAFAKE0000000000", secretAccessKey: Secret(secretKey))
    static let session = AWSCredentials(
        accessKeyId: "ASIAFAKE0000000000", secretAccessKey: Secret(secretKey), sessionToken: Secret(sessionToken),
        expiration: Date(timeIntervalSince1970: 1_800_000_000))
    /// 2026-11-22T22:00:00Z
    static let now = Date(timeIntervalSince1970: 1_795_384_800)

    static func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in all {
            #expect(
                !text.contains(secret), "secret leaked into: \(text.replacingOccurrences(of: secret, with: "<LEAK>"))", sourceLocation: sourceLocation
            )
        }
    }
}

enum STSXML {
    static func credentials(expiration: String = "2026-11-22T23:00:00Z") -> String {
        """
            <Credentials>
              <AccessKeyId>ASIARESPONSE000000</AccessKeyId>
              <SecretAccessKey>\(Fake.responseSecret)</SecretAccessKey>
              <SessionToken>\(Fake.responseToken)</SessionToken>
              <Expiration>\(expiration)</Expiration>
            </Credentials>
        """
    }

    static func getSessionToken(expiration: String = "2026-11-22T23:00:00Z") -> String {
        """
        <GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <GetSessionTokenResult>
        \(credentials(expiration: expiration))
          </GetSessionTokenResult>
          <ResponseMetadata>
            <RequestId>58c5dbae-abef-11e0-8cfe-09039844ac7d</RequestId>
          </ResponseMetadata>
        </GetSessionTokenResponse>
        """
    }

    static let assumeRole = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <SourceIdentity>alice</SourceIdentity>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::222222222222:assumed-role/Developer/alice</Arn>
              <AssumedRoleId>AROA3XFRBF535PLBIFPI4:alice</AssumedRoleId>
            </AssumedRoleUser>
        \(credentials())
            <PackedPolicySize>6</PackedPolicySize>
          </AssumeRoleResult>
          <ResponseMetadata>
            <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
          </ResponseMetadata>
        </AssumeRoleResponse>
        """

    static let callerIdentity = """
        <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <GetCallerIdentityResult>
            <Arn>arn:aws:iam::111111111111:user/alice</Arn>
            <UserId>AIDAFAKEUSERID</UserId>
            <Account>111111111111</Account>
          </GetCallerIdentityResult>
          <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
        </GetCallerIdentityResponse>
        """

    static func error(code: String, message: String, type: String = "Sender", requestId: String = "4fc0d3ee-efef-11e9-9282-3b7bffe54a9b") -> String {
        """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error>
            <Type>\(type)</Type>
            <Code>\(code)</Code>
            <Message>\(message)</Message>
          </Error>
          <RequestId>\(requestId)</RequestId>
        </ErrorResponse>
        """
    }
}

extension FakeTransport.Outcome {
    static func ok(_ xml: String, headers: [SigV4Request.Header] = []) -> Self {
        .response(TransportResponse(status: 200, headers: headers, body: Array(xml.utf8)))
    }

    static func error(
        _ status: Int, code: String, message: String, headers: [SigV4Request.Header] = []
    ) -> Self {
        .response(TransportResponse(status: status, headers: headers, body: Array(STSXML.error(code: code, message: message).utf8)))
    }

    static func raw(_ status: Int, _ body: String, headers: [SigV4Request.Header] = []) -> Self {
        .response(TransportResponse(status: status, headers: headers, body: Array(body.utf8)))
    }
}

/// Records retry sleeps instead of sleeping.
final class SleepRecorder: Sendable {
    private let sleeps = Mutex<[Duration]>([])
    var recorded: [Duration] { sleeps.withLock { $0 } }

    func timing(unitRandom: Double = 1.0) -> RetryTiming {
        RetryTiming(unitRandom: { unitRandom }, sleep: { [self] duration in sleeps.withLock { $0.append(duration) } })
    }
}

func makeClient(
    _ transport: FakeTransport, clock: ManualWallClock = ManualWallClock(Fake.now), sleeps: SleepRecorder = SleepRecorder(),
    policy: RetryPolicy = .default, endpoint: String = "https://sts.eu-west-1.amazonaws.com", region: String = "eu-west-1"
) throws -> STSClient {
    STSClient(
        transport: transport, endpoint: try #require(URL(string: endpoint)), signingRegion: region, wallClock: clock,
        retryPolicy: policy, retryTiming: sleeps.timing())
}

func formFields(_ request: TransportRequest) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        fields[parts[0].removingPercentEncoding ?? parts[0]] = parts.count > 1 ? (parts[1].removingPercentEncoding ?? parts[1]) : ""
    }
    return fields
}

func header(_ request: TransportRequest, _ name: String) -> String? {
    request.headers.first { $0.name.lowercased() == name.lowercased() }?.value
}
