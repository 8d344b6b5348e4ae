import CreddCore
import CreddSigV4
import FoundationEssentials
import Logging
import Synchronization

/// A client for any AWS Query API (form POST, XML response): STS today, IAM next.
///
/// It signs with SigV4, retries retryable failures with exponential backoff and full jitter,
/// corrects clock skew from the response `Date` header (one extra attempt, and the offset is
/// kept for later requests), and decodes error documents into `AWSQueryError`.
public struct AWSQueryClient: Sendable {
    /// The API a client speaks.
    public struct Service: Sendable, Hashable {
        /// Name used in messages, e.g. `STS`.
        public var displayName: String
        /// SigV4 service name, e.g. `sts`.
        public var signingName: String
        /// The `Version` form parameter, e.g. `2011-06-15`.
        public var apiVersion: String

        public init(displayName: String, signingName: String, apiVersion: String) {
            self.displayName = displayName
            self.signingName = signingName
            self.apiVersion = apiVersion
        }
    }

    /// A decoded success: the `<ActionResult>` element and the request id.
    public struct Response: Sendable, Hashable {
        public let result: AWSXMLElement
        public let requestId: String?
    }

    public let service: Service
    public let endpoint: URL
    public let signingRegion: String
    private let transport: any STSTransport
    private let wallClock: any WallClock
    private let retryPolicy: RetryPolicy
    private let retryTiming: RetryTiming
    private let logger: Logger
    private let skew: ClockSkew

    public init(
        service: Service,
        transport: any STSTransport,
        endpoint: URL,
        signingRegion: String,
        wallClock: any WallClock,
        retryPolicy: RetryPolicy = .default,
        retryTiming: RetryTiming = .live,
        logger: Logger = Logger(label: "credd.aws-query")
    ) {
        self.service = service
        self.transport = transport
        self.endpoint = endpoint
        self.signingRegion = signingRegion
        self.wallClock = wallClock
        self.retryPolicy = retryPolicy
        self.retryTiming = retryTiming
        self.logger = logger
        self.skew = ClockSkew()
    }

    /// Seconds added to the local clock when signing, learned from the last skew error.
    public var clockOffset: TimeInterval { skew.offset }

    /// Calls `action` with `parameters` (in order, not encoded) signed with `credentials`.
    ///
    /// Actions that return nothing (IAM `DeleteAccessKey`, `UpdateAccessKey`) answer with a bare
    /// `<ActionResponse>`: pass `expectsResult: false` and the response's `result` is empty.
    /// Secret parameter values (an MFA code) go in `secretParameters` too, so an error message
    /// that echoes them is redacted.
    public func perform(
        action: String,
        parameters: [(name: String, value: String)],
        secretParameters: [Secret] = [],
        credentials: AWSCredentials,
        expectsResult: Bool = true
    ) async throws(AWSQueryError) -> Response {
        let body = formBody(action: action, parameters: parameters)
        let scrub = ([credentials.secretAccessKey, credentials.sessionToken].compactMap { $0 } + secretParameters).map(\.revealed)
        var attempts = 0
        var retries = 0
        var skewCorrected = false
        while true {
            attempts += 1
            let failure: AWSQueryError
            switch await attempt(
                action: action, body: body, credentials: credentials, scrub: scrub, attempts: attempts,
                expectsResult: expectsResult)
            {
            case .success(let response):
                return response
            case .failure(let error, let dateHeader):
                if !skewCorrected, let code = error.code, AWSErrorClassification.isClockSkew(code: code, message: error.message),
                    let serverDate = dateHeader.flatMap(AWSTimestamp.parseHTTPDate)
                {
                    skewCorrected = true
                    let offset = serverDate.timeIntervalSince(wallClock.now())
                    skew.offset = offset
                    logger.notice(
                        "Correcting clock skew and retrying once",
                        metadata: ["aws.action": "\(action)", "aws.error_code": "\(code)", "credd.clock_offset_seconds": "\(Int(offset))"])
                    continue
                }
                failure = error
            }
            guard failure.disposition == .retryable, retries + 1 < retryPolicy.maxAttempts else { throw failure }
            retries += 1
            let delay = retryTiming.delay(beforeRetry: retries, policy: retryPolicy)
            logger.info(
                "Retrying after a transient failure",
                metadata: [
                    "aws.action": "\(action)", "aws.error_code": "\(failure.code ?? "none")",
                    "aws.request_id": "\(failure.requestId ?? "none")", "credd.retry_delay": "\(delay)",
                ])
            do {
                try await retryTiming.sleep(delay)
            } catch {
                throw failure
            }
        }
    }

    private enum AttemptResult {
        case success(Response)
        /// The response's `Date` header, parsed only for a clock-skew error (parsing it for every
        /// response cost 5 % of a 1,000-profile pass).
        case failure(AWSQueryError, dateHeader: String?)
    }

    private func attempt(
        action: String, body: [UInt8], credentials: AWSCredentials, scrub: [String], attempts: Int, expectsResult: Bool
    ) async -> AttemptResult {
        let signed = SigV4Signer.sign(
            SigV4Request(
                method: "POST", path: endpoint.path.isEmpty ? "/" : endpoint.path,
                headers: [
                    .init(name: "Host", value: hostHeader),
                    .init(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8"),
                ],
                body: body),
            credentials: credentials, region: signingRegion, service: service.signingName,
            date: wallClock.now().addingTimeInterval(skew.offset))
        let request = TransportRequest(url: endpoint, headers: signed.request.headers, body: body)

        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch {
            return .failure(
                makeError(
                    action: action, kind: .transport(error.kind), code: nil, message: error.detail, requestId: nil,
                    httpStatus: nil, attempts: attempts, disposition: error.kind == .invalidRequest ? .needsChange : .retryable,
                    scrub: scrub),
                dateHeader: nil)
        }
        let dateHeader = response.headerValue("Date")
        let headerRequestId = response.headerValue("x-amzn-RequestId") ?? response.headerValue("x-amz-request-id")
        let document = AWSXMLElement.parse(response.body)

        if (200..<300).contains(response.status) {
            if let document, document.name == "\(action)Response" {
                let requestId = document.child(at: "ResponseMetadata", "RequestId")?.text ?? headerRequestId
                if let result = document.child("\(action)Result") {
                    return .success(Response(result: result, requestId: requestId))
                }
                if !expectsResult {
                    return .success(Response(result: AWSXMLElement(name: "\(action)Result", text: "", children: []), requestId: requestId))
                }
            }
            return .failure(
                makeError(
                    action: action, kind: .malformedResponse, code: nil,
                    message: "HTTP \(response.status) with \(bodySummary(response.body, document: document)) instead of <\(action)Response>",
                    requestId: headerRequestId, httpStatus: response.status, attempts: attempts, disposition: .retryable,
                    scrub: scrub),
                dateHeader: dateHeader)
        }

        let errorElement = document?.firstDescendant("Error")
        let code = errorElement?.child("Code")?.text.trimmingWhitespace(newlines: true)
        let message =
            errorElement?.child("Message")?.text
            ?? "the response had \(bodySummary(response.body, document: document)), not an AWS error document"
        let requestId = (document?.firstDescendant("RequestId") ?? document?.firstDescendant("RequestID"))?.text ?? headerRequestId
        let cleanMessage = sanitized(message, removing: scrub)
        return .failure(
            makeError(
                action: action, kind: .service, code: code.flatMap { $0.isEmpty ? nil : $0 }, message: cleanMessage,
                requestId: requestId, httpStatus: response.status, attempts: attempts,
                disposition: AWSErrorClassification.disposition(code: code, message: cleanMessage, httpStatus: response.status),
                scrub: scrub),
            dateHeader: dateHeader)
    }

    /// Builds an error whose message is one line, bounded and scrubbed of `scrub`.
    private func makeError(
        action: String, kind: AWSQueryError.Kind, code: String?, message: String, requestId: String?, httpStatus: Int?,
        attempts: Int, disposition: FailureDisposition, scrub: [String]
    ) -> AWSQueryError {
        AWSQueryError(
            service: service.displayName, action: action, kind: kind, code: code.map { sanitized($0, removing: scrub) },
            message: sanitized(message, removing: scrub), requestId: requestId.map { sanitized($0, removing: scrub) },
            httpStatus: httpStatus, attempts: attempts, disposition: disposition)
    }

    /// `host[:port]` as SigV4 and HTTP/1.1 want it: lowercased, default ports omitted, IPv6 bracketed.
    var hostHeader: String {
        let host = (endpoint.host ?? "").lowercased()
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port = endpoint.port else { return bracketed }
        let isDefault = (endpoint.scheme == "https" && port == 443) || (endpoint.scheme == "http" && port == 80)
        return isDefault ? bracketed : "\(bracketed):\(port)"
    }

    func formBody(action: String, parameters: [(name: String, value: String)]) -> [UInt8] {
        let all = [("Action", action), ("Version", service.apiVersion)] + parameters.map { ($0.name, $0.value) }
        let text = all.map { "\(SigV4Encoding.percentEncode($0.0))=\(SigV4Encoding.percentEncode($0.1))" }
            .joined(separator: "&")
        return Array(text.utf8)
    }

    private func bodySummary(_ body: [UInt8], document: AWSXMLElement?) -> String {
        if body.isEmpty { return "an empty body" }
        if let document { return "an unexpected <\(document.name)> document" }
        return "\(body.count) bytes of malformed or truncated XML"
    }
}

/// The clock offset shared by copies of a client. A class around a `Mutex` so the `Sendable`
/// struct client can update it from any task.
final class ClockSkew: Sendable {
    private let storage = Mutex<TimeInterval>(0)

    var offset: TimeInterval {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
