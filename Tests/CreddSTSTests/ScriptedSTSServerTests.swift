import CreddCore
import CreddPlatform
import CreddSTS
import CreddTestSupport
import Foundation
import Testing

/// A scripted fake STS on 127.0.0.1 (Python's http.server), driven through the real
/// async-http-client transport. Each request consumes the next step of the script; a request
/// beyond the script gets `UnexpectedRequest`, which fails the test.
@Suite(.serialized) struct ScriptedSTSServerTests {
    static let available = ChildProcess.executable(named: "python3") != nil

    static let serverScript = #"""
        import sys, time, calendar
        from email.utils import formatdate
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        port, steps = int(sys.argv[1]), [s for s in sys.argv[2].split(",") if s]
        SKEW = 600
        IDENTITY = ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
                    '<Arn>arn:aws:iam::111111111111:user/alice</Arn><UserId>AIDAFAKE</UserId><Account>111111111111</Account>'
                    '</GetCallerIdentityResult><ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata></GetCallerIdentityResponse>')
        def error(code, message, kind="Sender"):
            return ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type><Code>%s</Code>'
                    '<Message>%s</Message></Error><RequestId>req-%s</RequestId></ErrorResponse>' % (kind, code, message, code))
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            skew = 0
            def log_message(self, *args):
                pass
            def date_time_string(self, timestamp=None):
                return formatdate(time.time() + self.skew, usegmt=True)
            def reply(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                step = steps.pop(0) if steps else "unexpected"
                if step == "stall":
                    time.sleep(30)
                    return
                if step == "skewed":
                    self.skew = SKEW
                    sent = calendar.timegm(time.strptime(self.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
                    if abs(time.time() + SKEW - sent) > 300:
                        return self.reply(403, error("SignatureDoesNotMatch",
                            "Signature expired: %s is now earlier than the server time minus 15 min." % self.headers["X-Amz-Date"]))
                    return self.reply(200, IDENTITY)
                if step == "ok":
                    return self.reply(200, IDENTITY)
                if step == "throttle":
                    return self.reply(400, error("Throttling", "Rate exceeded"))
                if step == "500":
                    return self.reply(500, error("InternalFailure", "internal error", "Receiver"))
                if step == "mfa":
                    return self.reply(403, error("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. "))
                if step == "truncated":
                    return self.reply(200, IDENTITY[:120])
                if step == "empty":
                    return self.reply(200, "")
                return self.reply(400, error("UnexpectedRequest", "the script has no step left"))
        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#

    /// Runs `body` against a fresh server playing `steps`, with a 1-second read timeout.
    func withScriptedSTS(
        _ steps: [String], retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)),
        _ body: (STSClient) async throws -> Void
    ) async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let server = try await onDedicatedThread {
            try LoopbackServer(["python3", "-c", Self.serverScript, "{PORT}", steps.joined(separator: ",")], logFile: dir.file("server.log"))
        }
        defer { server.stop() }
        let transport = HTTPClientSTSTransport(
            configuration: .init(connectTimeout: .seconds(2), readTimeout: .seconds(1), requestTimeout: .seconds(5)))
        let client = STSClient(
            transport: transport, endpoint: server.endpoint, signingRegion: "us-east-1", wallClock: SystemWallClock(),
            retryPolicy: retryPolicy)
        do {
            try await body(client)
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }

    func expectFailure(_ client: STSClient, sourceLocation: SourceLocation = #_sourceLocation) async -> STSError? {
        do {
            let identity = try await client.getCallerIdentity(credentials: Fake.session)
            Issue.record("expected a failure, got \(identity)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code != "UnexpectedRequest", sourceLocation: sourceLocation)
            Fake.expectNoSecrets(error.description, sourceLocation: sourceLocation)
            return error
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"))
    func dateHeaderTenMinutesOffIsCorrectedAndKept() async throws {
        try await withScriptedSTS(["skewed", "skewed", "skewed"]) { client in
            let identity = try await client.getCallerIdentity(credentials: Fake.session)
            #expect(identity.account == "111111111111")
            #expect(abs(client.clockOffset - 600) < 30)
            // The offset is kept: the next call is accepted on its first attempt.
            _ = try await client.getCallerIdentity(credentials: Fake.session)
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"))
    func throttlingThenSuccess() async throws {
        try await withScriptedSTS(["throttle", "throttle", "ok"]) { client in
            let identity = try await client.getCallerIdentity(credentials: Fake.session)
            #expect(identity.requestId == "req-ok")
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"))
    func repeated500sAreRetryableAfterThreeAttempts() async throws {
        try await withScriptedSTS(["500", "500", "500"]) { client in
            let error = try #require(await expectFailure(client))
            #expect(error.code == "InternalFailure")
            #expect(error.httpStatus == 500)
            #expect(error.attempts == 3)
            #expect(error.disposition == .retryable)
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"))
    func stallHitsTheReadTimeout() async throws {
        try await withScriptedSTS(["stall"], retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1))) { client in
            let error = try #require(await expectFailure(client))
            #expect(error.kind == .transport(.timedOut))
            #expect(error.disposition == .retryable)
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"))
    func mfaFailureNeedsMFA() async throws {
        try await withScriptedSTS(["mfa"]) { client in
            let error = try #require(await expectFailure(client))
            #expect(error.code == "AccessDenied")
            #expect(error.requestId == "req-AccessDenied")
            #expect(error.disposition == .needsMFA)
            #expect(error.description.contains("credd login"))
        }
    }

    @Test(.enabled(if: available, "python3 is not on PATH"), arguments: ["truncated", "empty"])
    func unreadableBodiesAreMalformed(step: String) async throws {
        try await withScriptedSTS([step], retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1))) { client in
            let error = try #require(await expectFailure(client))
            #expect(error.kind == .malformedResponse)
            #expect(error.disposition == .retryable)
        }
    }

    @Test func connectionRefusedIsARetryableConnectionFailure() async throws {
        let port = try FreePort.find()
        let transport = HTTPClientSTSTransport(configuration: .init(connectTimeout: .seconds(2)))
        let client = STSClient(
            transport: transport, endpoint: try #require(URL(string: "http://127.0.0.1:\(port)")), signingRegion: "us-east-1",
            wallClock: SystemWallClock(), retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(1)))
        let error = await expectFailure(client)
        try await transport.shutdown()
        #expect(error?.kind == .transport(.connectionFailed))
        #expect(error?.disposition == .retryable)
    }
}
