import CreddCore
import CreddSTS
import CreddSigV4
import CreddTestSupport
import Foundation
import Testing

@Suite struct STSErrorClassificationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var status: Int
        var code: String?
        var message: String
        var expected: FailureDisposition
        var testDescription: String { "\(status) \(code ?? "-") → \(expected)" }
    }

    static let cases: [Case] = [
        Case(status: 400, code: "Throttling", message: "Rate exceeded", expected: .retryable),
        Case(status: 400, code: "ThrottlingException", message: "Rate exceeded", expected: .retryable),
        Case(status: 400, code: "RequestLimitExceeded", message: "Request limit exceeded.", expected: .retryable),
        Case(status: 400, code: "IDPCommunicationError", message: "IdP unreachable", expected: .retryable),
        Case(status: 500, code: "InternalFailure", message: "oops", expected: .retryable),
        Case(status: 503, code: "ServiceUnavailable", message: "busy", expected: .retryable),
        Case(status: 502, code: nil, message: "", expected: .retryable),
        Case(
            status: 403, code: "AccessDenied", message: "User: arn:aws:iam::1:user/a is not authorized to perform: sts:AssumeRole",
            expected: .needsChange),
        Case(
            status: 403, code: "AccessDenied", message: "MultiFactorAuthentication failed with invalid MFA one time pass code. ", expected: .needsMFA),
        Case(status: 403, code: "InvalidClientTokenId", message: "The security token included in the request is invalid.", expected: .needsChange),
        Case(
            status: 400, code: "ValidationError",
            message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.", expected: .needsChange),
        Case(status: 403, code: "ExpiredToken", message: "The security token included in the request is expired", expected: .sourceExpired),
        Case(status: 400, code: "ExpiredTokenException", message: "Token expired", expected: .sourceExpired),
        Case(
            status: 403, code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided.",
            expected: .needsChange),
        Case(
            status: 403, code: "SignatureDoesNotMatch",
            message: "Signature expired: 20160609T184512Z is now earlier than 20160610T013008Z (20160610T014508Z - 15 min.)", expected: .retryable),
        Case(
            status: 403, code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large.",
            expected: .retryable),
        Case(
            status: 400, code: "InvalidSignatureException", message: "Signature not yet current: 20260101T000000Z is still later than …",
            expected: .retryable),
        Case(status: 400, code: "InvalidSignatureException", message: "The request signature we calculated does not match", expected: .needsChange),
        Case(status: 403, code: "RegionDisabledException", message: "STS is not activated in this region", expected: .needsChange),
        Case(status: 404, code: nil, message: "", expected: .needsChange),
    ]

    @Test(arguments: cases)
    func disposition(_ testCase: Case) {
        #expect(
            AWSErrorClassification.disposition(code: testCase.code, message: testCase.message, httpStatus: testCase.status)
                == testCase.expected)
    }
}

/// Each error class through the client over the fake transport.
@Suite struct STSErrorPathTests {
    func failAssumeRole(
        _ script: [FakeTransport.Outcome], policy: RetryPolicy = .default, sleeps: SleepRecorder = SleepRecorder()
    ) async throws -> (STSError, FakeTransport) {
        let transport = FakeTransport(script)
        let client = try makeClient(transport, sleeps: sleeps, policy: policy)
        let outcome: Result<STSSession, STSError>
        do {
            outcome = .success(
                try await client.assumeRole(
                    credentials: Fake.session,
                    AssumeRoleRequest(
                        roleArn: "arn:aws:iam::222222222222:role/Developer", roleSessionName: "alice",
                        mfa: MFAToken(serialNumber: "arn:aws:iam::111111111111:mfa/alice", code: Secret(Fake.mfaCode)))))
        } catch {
            outcome = .failure(error)
        }
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            throw CancellationError()
        }
        Fake.expectNoSecrets(error.description)
        Fake.expectNoSecrets(error.refreshFailure.message)
        Fake.expectNoSecrets(String(reflecting: error))
        #expect(!error.description.contains(Fake.mfaCode))
        #expect(!error.description.contains("\n"))
        #expect(transport.unusedOutcomes == 0)
        return (error, transport)
    }

    @Test func echoedMFACodeIsScrubbed() async throws {
        let (error, _) = try await failAssumeRole(
            [.error(400, code: "ValidationError", message: "Value '\(Fake.mfaCode)' at 'tokenCode' failed to satisfy constraint")])
        #expect(error.message == "Value '<redacted>' at 'tokenCode' failed to satisfy constraint")
    }

    @Test(arguments: [
        (
            "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole", FailureDisposition.needsChange,
            "trust policy"
        ),
        ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ", .needsMFA, "credd login"),
        ("InvalidClientTokenId", "The security token included in the request is invalid.", .needsChange, "access key id is unknown"),
        ("ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint", .needsChange, "duration_seconds"),
        ("ExpiredToken", "The security token included in the request is expired", .sourceExpired, "renew the source profile"),
        (
            "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", .needsChange,
            "secret access key"
        ),
    ])
    func nonRetryableErrorsFailAtOnce(code: String, message: String, disposition: FailureDisposition, hint: String) async throws {
        let (error, transport) = try await failAssumeRole([.error(403, code: code, message: message)])
        #expect(transport.sent.count == 1)
        #expect(error.kind == .service)
        #expect(error.code == code)
        #expect(error.httpStatus == 403)
        #expect(error.requestId == "4fc0d3ee-efef-11e9-9282-3b7bffe54a9b")
        #expect(error.disposition == disposition)
        #expect(error.refreshFailure.disposition == disposition)
        #expect(error.description.hasPrefix("STS AssumeRole failed: \(code) (HTTP 403, request id 4fc0d3ee-efef-11e9-9282-3b7bffe54a9b): "))
        #expect(error.description.contains(hint))
    }

    @Test func throttlingThenSuccessRetriesWithJitteredBackoff() async throws {
        let sleeps = SleepRecorder()
        let transport = FakeTransport([
            .error(400, code: "Throttling", message: "Rate exceeded"),
            .error(400, code: "Throttling", message: "Rate exceeded"),
            .ok(STSXML.assumeRole),
        ])
        let client = try makeClient(transport, sleeps: sleeps)
        let session = try await client.assumeRole(
            credentials: Fake.session, AssumeRoleRequest(roleArn: "arn:aws:iam::2:role/R", roleSessionName: "s1"))
        #expect(session.credentials.isComplete)
        #expect(transport.sent.count == 3)
        // unitRandom 1.0 shows the ceilings: 1 s then 2 s.
        #expect(sleeps.recorded == [.seconds(1), .seconds(2)])
    }

    @Test func serverErrorsExhaustAttemptsAndStayRetryable() async throws {
        let sleeps = SleepRecorder()
        let (error, transport) = try await failAssumeRole(
            [
                .error(500, code: "InternalFailure", message: "internal"),
                .raw(503, ""),
                .error(500, code: "InternalFailure", message: "internal"),
            ], sleeps: sleeps)
        #expect(transport.sent.count == 3)
        #expect(sleeps.recorded.count == 2)
        #expect(error.disposition == .retryable)
        #expect(error.attempts == 3)
        #expect(error.description.contains("3 attempts"))
    }

    @Test func idpCommunicationErrorIsRetried() async throws {
        let (error, _) = try await failAssumeRole(
            [
                .error(400, code: "IDPCommunicationError", message: "unreachable"),
                .error(400, code: "IDPCommunicationError", message: "unreachable"),
            ], policy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .seconds(1)))
        #expect(error.code == "IDPCommunicationError")
        #expect(error.disposition == .retryable)
    }

    @Test(arguments: [TransportError.Kind.timedOut, .connectionFailed])
    func transportFailuresAreRetryable(kind: TransportError.Kind) async throws {
        let failure = TransportError(kind: kind, detail: "fake network problem")
        let (error, transport) = try await failAssumeRole([.failure(failure), .failure(failure), .failure(failure)])
        #expect(transport.sent.count == 3)
        #expect(error.kind == .transport(kind))
        #expect(error.code == nil)
        #expect(error.httpStatus == nil)
        #expect(error.disposition == .retryable)
        #expect(error.description.contains("fake network problem"))
        #expect(error.description.contains("check the network"))
    }

    @Test func unsendableRequestIsNotRetried() async throws {
        let (error, transport) = try await failAssumeRole([.failure(TransportError(kind: .invalidRequest, detail: "bad URL"))])
        #expect(transport.sent.count == 1)
        #expect(error.disposition == .needsChange)
    }

    @Test(arguments: [
        ("", "an empty body"),
        ("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA", "malformed or truncated XML"),
        ("{\"not\": \"xml\"}", "malformed or truncated XML"),
        ("<Unexpected/>", "unexpected <Unexpected> document"),
    ])
    func unreadableSuccessIsMalformedAndRetryable(body: String, expected: String) async throws {
        let (error, _) = try await failAssumeRole(
            [.raw(200, body)], policy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1)))
        #expect(error.kind == .malformedResponse)
        #expect(error.disposition == .retryable)
        #expect(error.description.contains(expected))
    }

    @Test func partialCredentialsAreNeverASuccess() async throws {
        let partial = STSXML.assumeRole.replacingOccurrences(
            of: "<SessionToken>\(Fake.responseToken)</SessionToken>", with: "<SessionToken></SessionToken>")
        let (error, _) = try await failAssumeRole(
            [.ok(partial)], policy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1)))
        #expect(error.kind == .malformedResponse)
        #expect(error.requestId == "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
        #expect(error.description.contains("SessionToken"))
    }

    @Test func nonXMLErrorBodyKeepsStatusAndHeaderRequestId() async throws {
        let (error, _) = try await failAssumeRole(
            [.raw(404, "<html>Not Found</html", headers: [.init(name: "x-amzn-RequestId", value: "hdr-req-1")])])
        #expect(error.code == nil)
        #expect(error.httpStatus == 404)
        #expect(error.requestId == "hdr-req-1")
        #expect(error.disposition == .needsChange)
        #expect(error.description.contains("not an AWS error document"))
    }

    @Test func secretsEchoedByTheServerAreScrubbed() async throws {
        let echo = "bad token \(Fake.sessionToken) for key \(Fake.secretKey)\nsecond line"
        let (error, _) = try await failAssumeRole([.error(400, code: "ValidationError", message: echo)])
        #expect(error.message == "bad token <redacted> for key <redacted> second line")
    }

    @Test func cancelledBackoffEndsWithTheLastFailure() async throws {
        let transport = FakeTransport([.error(400, code: "Throttling", message: "Rate exceeded")])
        let client = STSClient(
            transport: transport, endpoint: try #require(URL(string: "https://sts.amazonaws.com")), signingRegion: "us-east-1",
            wallClock: ManualWallClock(Fake.now), retryTiming: RetryTiming(unitRandom: { 0.5 }, sleep: { _ in throw CancellationError() }))
        let error = await #expect(throws: STSError.self) {
            try await client.getCallerIdentity(credentials: Fake.longTerm)
        }
        #expect(error?.code == "Throttling")
        #expect(transport.sent.count == 1)
    }
}

@Suite struct ClockSkewTests {
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    @Test(arguments: [
        ("SignatureDoesNotMatch", "Signature expired: 20261122T220000Z is now earlier than 20261122T220500Z (20261122T222000Z - 15 min.)"),
        ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large."),
        ("InvalidSignatureException", "Signature not yet current: 20261122T220000Z is still later than 20261122T214500Z"),
    ])
    func skewIsCorrectedFromDateHeaderRetriedOnceAndKept(code: String, message: String) async throws {
        let serverNow = Fake.now.addingTimeInterval(600)
        let dateHeader = SigV4Request.Header(name: "Date", value: Self.httpDate(serverNow))
        let transport = FakeTransport([
            .error(403, code: code, message: message, headers: [dateHeader]),
            .ok(STSXML.callerIdentity),
            .ok(STSXML.callerIdentity),
        ])
        let sleeps = SleepRecorder()
        let client = try makeClient(transport, sleeps: sleeps)

        _ = try await client.getCallerIdentity(credentials: Fake.longTerm)
        #expect(client.clockOffset == 600)
        #expect(sleeps.recorded.isEmpty)
        _ = try await client.getCallerIdentity(credentials: Fake.longTerm)

        let dates = transport.sent.map { header($0, "X-Amz-Date") }
        #expect(dates == ["20261122T220000Z", "20261122T221000Z", "20261122T221000Z"])
    }

    @Test func skewIsRetriedOnlyOncePerCall() async throws {
        let skewed = FakeTransport.Outcome.error(
            403, code: "RequestTimeTooSkewed", message: "too skewed",
            headers: [.init(name: "Date", value: Self.httpDate(Fake.now.addingTimeInterval(-900)))])
        let sleeps = SleepRecorder()
        let transport = FakeTransport([skewed, skewed])
        let client = try makeClient(transport, sleeps: sleeps, policy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1)))
        let error = await #expect(throws: STSError.self) {
            try await client.getCallerIdentity(credentials: Fake.longTerm)
        }
        #expect(error?.code == "RequestTimeTooSkewed")
        #expect(error?.attempts == 2)
        #expect(transport.sent.count == 2)
        #expect(client.clockOffset == -900)
    }

    @Test func skewWithoutDateHeaderIsNotCorrected() async throws {
        let transport = FakeTransport([.error(403, code: "RequestTimeTooSkewed", message: "too skewed")])
        let client = try makeClient(transport, policy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1)))
        await #expect(throws: STSError.self) { try await client.getCallerIdentity(credentials: Fake.longTerm) }
        #expect(transport.sent.count == 1)
        #expect(client.clockOffset == 0)
    }
}

@Suite struct RetryPolicyTests {
    @Test func ceilingsDoubleUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(500), maxDelay: .seconds(5))
        #expect(
            (1...6).map { policy.delayCeiling(beforeRetry: $0) } == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5),
            ])
        #expect(policy.delayCeiling(beforeRetry: 1000) == .seconds(5))
    }

    @Test func fullJitterScalesTheCeiling() async throws {
        let sleeps = SleepRecorder()
        let transport = FakeTransport([
            .error(400, code: "Throttling", message: "Rate exceeded"), .error(400, code: "Throttling", message: "Rate exceeded"),
            .error(400, code: "Throttling", message: "Rate exceeded"), .ok(STSXML.callerIdentity),
        ])
        let client = STSClient(
            transport: transport, endpoint: try #require(URL(string: "https://sts.amazonaws.com")), signingRegion: "us-east-1",
            wallClock: ManualWallClock(Fake.now), retryPolicy: RetryPolicy(maxAttempts: 4, baseDelay: .seconds(2), maxDelay: .seconds(5)),
            retryTiming: sleeps.timing(unitRandom: 0.25))
        _ = try await client.getCallerIdentity(credentials: Fake.longTerm)
        #expect(sleeps.recorded == [.milliseconds(500), .seconds(1), .milliseconds(1250)])
    }

    @Test func atLeastOneAttempt() {
        #expect(RetryPolicy(maxAttempts: 0, baseDelay: .seconds(1), maxDelay: .seconds(1)).maxAttempts == 1)
    }
}
