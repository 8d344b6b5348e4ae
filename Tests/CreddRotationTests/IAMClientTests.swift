import CreddCore
import CreddSTS
import CreddTestSupport
import Foundation
import Synchronization
import Testing

/// Answers each request with the next scripted response and keeps what was sent; a request
/// beyond the script is a test failure.
final class ScriptedTransport: STSTransport {
    private let state: Mutex<(responses: [TransportResponse], sent: [TransportRequest])>

    init(_ responses: [TransportResponse]) {
        state = Mutex((responses, []))
    }

    var sent: [TransportRequest] { state.withLock { $0.sent } }

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        let next = state.withLock { state -> TransportResponse? in
            state.sent.append(request)
            return state.responses.isEmpty ? nil : state.responses.removeFirst()
        }
        guard let next else {
            Issue.record("unexpected request to \(request.url)")
            throw TransportError(kind: .invalidRequest, detail: "no scripted response left")
        }
        return next
    }
}

extension TransportResponse {
    static func ok(_ xml: String) -> TransportResponse {
        TransportResponse(status: 200, body: Array(xml.utf8))
    }
}

enum IAMXML {
    static func response(_ action: String, result: String?) -> String {
        let body = result.map { "<\(action)Result>\($0)</\(action)Result>" } ?? ""
        return """
            <\(action)Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\(body)\
            <ResponseMetadata><RequestId>req-\(action)</RequestId></ResponseMetadata></\(action)Response>
            """
    }

    static func member(_ id: String, status: String = "Active", created: String = "2026-08-14T10:00:00Z") -> String {
        "<member><UserName>alice</UserName><AccessKeyId>\(id)</AccessKeyId><Status>\(status)</Status><CreateDate>\(created)</CreateDate></member>"
    }

    static let created = response(
        "CreateAccessKey",
        result:
            "<AccessKey><UserName>alice</UserName><AccessKeyId>\(Keys.newId)</AccessKeyId><Status>Active</Status><SecretAccessKey>\(Keys.newSecret)</SecretAccessKey><CreateDate>2026-11-22T23:56:17.461610Z</CreateDate></AccessKey>"
    )

    static let limitExceeded = """
        <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>LimitExceeded</Code>\
        <Message>Cannot exceed quota for AccessKeysPerUser: 2</Message></Error><RequestId>req-limit</RequestId></ErrorResponse>
        """
}

func makeIAM(_ transport: ScriptedTransport) -> IAMClient {
    IAMClient(
        transport: transport, wallClock: ManualWallClock(Keys.now),
        retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero),
        retryTiming: RetryTiming(unitRandom: { 0 }, sleep: { _ in Issue.record("unexpected retry sleep") }))
}

func form(_ request: TransportRequest) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
        fields[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    return fields
}

@Suite struct IAMClientTests {
    @Test func listsKeysSignedForTheGlobalEndpoint() async throws {
        let transport = ScriptedTransport([
            .ok(
                IAMXML.response(
                    "ListAccessKeys",
                    result:
                        "<AccessKeyMetadata>\(IAMXML.member(Keys.oldId))\(IAMXML.member(Keys.otherId, status: "Inactive", created: "2026-11-01T00:00:00.5Z"))</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
                ))
        ])
        let keys = try await makeIAM(transport).listAccessKeys(userName: "alice", credentials: Keys.old)

        let oldCreated = try #require(AWSTimestamp.parse("2026-08-14T10:00:00Z"))
        let otherCreated = try #require(AWSTimestamp.parse("2026-11-01T00:00:00.5Z"))
        #expect(
            keys == [
                AccessKeyMetadata(accessKeyId: Keys.oldId, status: .active, createDate: oldCreated, userName: "alice"),
                AccessKeyMetadata(accessKeyId: Keys.otherId, status: .inactive, createDate: otherCreated, userName: "alice"),
            ])
        let request = try #require(transport.sent.first)
        #expect(request.url.absoluteString == "https://iam.amazonaws.com")
        #expect(form(request) == ["Action": "ListAccessKeys", "Version": "2010-05-08", "UserName": "alice"])
        let authorization = try #require(request.headers.first { $0.name.lowercased() == "authorization" }?.value)
        #expect(authorization.contains("Credential=\(Keys.oldId)/20261122/us-east-1/iam/aws4_request"))
        #expect(request.headers.contains { $0.name.lowercased() == "host" && $0.value == "iam.amazonaws.com" })
    }

    @Test func followsMarkerPages() async throws {
        let transport = ScriptedTransport([
            .ok(
                IAMXML.response(
                    "ListAccessKeys",
                    result: "<AccessKeyMetadata>\(IAMXML.member(Keys.oldId))</AccessKeyMetadata><IsTruncated>true</IsTruncated><Marker>page2</Marker>"
                )),
            .ok(IAMXML.response("ListAccessKeys", result: "<AccessKeyMetadata>\(IAMXML.member(Keys.otherId))</AccessKeyMetadata>")),
        ])
        let keys = try await makeIAM(transport).listAccessKeys(userName: nil, credentials: Keys.old)
        #expect(keys.map(\.accessKeyId) == [Keys.oldId, Keys.otherId])
        #expect(form(transport.sent[0])["UserName"] == nil)
        #expect(form(transport.sent[1])["Marker"] == "page2")
    }

    @Test func truncatedWithoutMarkerIsMalformed() async throws {
        let transport = ScriptedTransport([.ok(IAMXML.response("ListAccessKeys", result: "<AccessKeyMetadata/><IsTruncated>true</IsTruncated>"))])
        let error = try await #require(throws: AWSQueryError.self) {
            try await makeIAM(transport).listAccessKeys(userName: "alice", credentials: Keys.old)
        }
        #expect(error.kind == .malformedResponse)
        #expect(error.description.contains("IsTruncated without a Marker"))
    }

    @Test func createdKeysSecretIsASecret() async throws {
        let transport = ScriptedTransport([.ok(IAMXML.created)])
        let key = try await makeIAM(transport).createAccessKey(userName: "alice", credentials: Keys.session)
        #expect(key.credentials.accessKeyId == Keys.newId)
        #expect(key.credentials.secretAccessKey.revealed == Keys.newSecret)
        #expect(key.credentials.sessionToken == nil && key.credentials.expiration == nil)
        #expect(key.metadata.status == .active)
        #expect(key.requestId == "req-CreateAccessKey")
        Keys.expectNoSecrets("\(key) \(String(reflecting: key)) \(key.credentials)")
        let request = try #require(transport.sent.first)
        #expect(form(request) == ["Action": "CreateAccessKey", "Version": "2010-05-08", "UserName": "alice"])
        #expect(request.headers.contains { $0.name.lowercased() == "x-amz-security-token" && $0.value == Keys.sessionToken })
    }

    @Test func createResponseWithoutSecretIsMalformedAndNamesTheKey() async throws {
        let transport = ScriptedTransport([
            .ok(
                IAMXML.response(
                    "CreateAccessKey",
                    result:
                        "<AccessKey><AccessKeyId>\(Keys.newId)</AccessKeyId><Status>Active</Status><CreateDate>2026-11-22T23:56:17Z</CreateDate></AccessKey>"
                ))
        ])
        let error = try await #require(throws: AWSQueryError.self) {
            try await makeIAM(transport).createAccessKey(userName: "alice", credentials: Keys.old)
        }
        #expect(error.kind == .malformedResponse)
        #expect(error.description.contains(Keys.newId))
    }

    @Test func updateAndDeleteAcceptTheBareResponse() async throws {
        let transport = ScriptedTransport([
            .ok(IAMXML.response("UpdateAccessKey", result: nil)), .ok(IAMXML.response("DeleteAccessKey", result: nil)),
        ])
        let iam = makeIAM(transport)
        try await iam.updateAccessKey(accessKeyId: Keys.oldId, status: .inactive, userName: "alice", credentials: Keys.new)
        try await iam.deleteAccessKey(accessKeyId: Keys.oldId, userName: "alice", credentials: Keys.new)
        #expect(
            form(transport.sent[0]) == [
                "Action": "UpdateAccessKey", "Version": "2010-05-08", "UserName": "alice", "AccessKeyId": Keys.oldId, "Status": "Inactive",
            ])
        #expect(form(transport.sent[1]) == ["Action": "DeleteAccessKey", "Version": "2010-05-08", "UserName": "alice", "AccessKeyId": Keys.oldId])
    }

    @Test func awsErrorsKeepCodeAndRequestIdAndNoSecret() async throws {
        let transport = ScriptedTransport([TransportResponse(status: 409, body: Array(IAMXML.limitExceeded.utf8))])
        let error = try await #require(throws: AWSQueryError.self) {
            try await makeIAM(transport).createAccessKey(userName: "alice", credentials: Keys.session)
        }
        #expect(error.code == "LimitExceeded")
        #expect(error.requestId == "req-limit")
        #expect(error.disposition == .needsChange)
        #expect(error.service == "IAM")
        Keys.expectNoSecrets(error.description)
    }

    @Test func otherDocumentsAreStillMalformed() async throws {
        let transport = ScriptedTransport([.ok(IAMXML.response("ListAccessKeys", result: nil))])
        let error = try await #require(throws: AWSQueryError.self) {
            try await makeIAM(transport).listAccessKeys(userName: "alice", credentials: Keys.old)
        }
        #expect(error.kind == .malformedResponse)
    }

    @Test(arguments: [
        ([String: String](), "https://iam.amazonaws.com"),
        (["AWS_ENDPOINT_URL": "http://127.0.0.1:5000"], "http://127.0.0.1:5000"),
        (["AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:5001", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"], "http://127.0.0.1:5001"),
        (["AWS_ENDPOINT_URL_IAM": "", "AWS_ENDPOINT_URL": "http://localhost:5000"], "http://localhost:5000"),
        (["AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:5001", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"], "https://iam.amazonaws.com"),
    ])
    func endpointResolution(environment: [String: String], expected: String) throws {
        let endpoint = try IAMEndpoint.resolve(environment: environment)
        #expect(endpoint.url.absoluteString == expected)
        #expect(endpoint.signingRegion == "us-east-1")
    }

    @Test func malformedEndpointVariableIsAnError() {
        let error = #expect(throws: AWSQueryError.self) { try IAMEndpoint.resolve(environment: ["AWS_ENDPOINT_URL_IAM": "127.0.0.1:5000"]) }
        #expect(error?.description.contains("AWS_ENDPOINT_URL_IAM") == true)
    }
}
