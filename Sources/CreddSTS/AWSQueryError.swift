import CreddCore

/// A failed AWS Query API call: what failed, what AWS said, and what it means for the refresh schedule.
///
/// Every text field is secret-free: whatever the service sent (code, message, request id) is
/// redacted by the client before it is stored (`Redaction`: the caller's secret key and session
/// token raw or percent-encoded, and anything credential-shaped), and cut to a short excerpt.
/// credd's own messages name what the user needs, such as a new access key id to delete, never
/// a secret.
public struct AWSQueryError: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The service answered with an error status (and usually an error document).
        case service
        /// No HTTP response arrived.
        case transport(TransportError.Kind)
        /// A success status whose body is not the expected document (empty, truncated, partial credentials).
        case malformedResponse
        /// Refused before sending: a parameter can never be valid.
        case invalidParameter
    }

    /// The service's display name, e.g. `STS`.
    public let service: String
    /// The API action, e.g. `AssumeRole`.
    public let action: String
    public let kind: Kind
    /// The AWS error code (`AccessDenied`, `Throttling`, …) when the service sent one.
    public let code: String?
    /// AWS's message or a description of the local failure: one line, secret-free.
    public let message: String
    public let requestId: String?
    public let httpStatus: Int?
    /// Attempts made, retries and the clock-skew retry included.
    public let attempts: Int
    public let disposition: FailureDisposition

    public init(
        service: String, action: String, kind: Kind, code: String?, message: String, requestId: String?,
        httpStatus: Int?, attempts: Int, disposition: FailureDisposition
    ) {
        self.service = service
        self.action = action
        self.kind = kind
        self.code = code
        self.message = message
        self.requestId = requestId
        self.httpStatus = httpStatus
        self.attempts = attempts
        self.disposition = disposition
    }

    /// The failure as the refresh scheduler and `credd status` take it.
    public var refreshFailure: RefreshFailure {
        RefreshFailure(disposition: disposition, message: description)
    }

    /// What the user should do about this failure.
    public var nextStep: String {
        switch kind {
        case .transport:
            return "check the network and the STS endpoint URL; credd retries with backoff"
        case .malformedResponse:
            return "check that the endpoint URL points at AWS STS; credd retries with backoff"
        case .invalidParameter:
            return "fix the profile's configuration"
        case .service:
            break
        }
        switch disposition {
        case .retryable:
            return "transient AWS error; credd retries with backoff"
        case .needsMFA:
            return "the MFA code was rejected; enter a fresh code with `credd login PROFILE` or check mfa_serial/mfa_process"
        case .sourceExpired:
            return "the source credentials have expired; renew the source profile first"
        case .needsChange, .needsLogin, .needsUnlock:
            break
        }
        switch code {
        case "InvalidClientTokenId":
            return "the access key id is unknown, deleted or inactive; update the source credentials"
        case "SignatureDoesNotMatch":
            return "the secret access key does not match the access key id; check the source credentials"
        case "AccessDenied":
            return "check the role's trust policy, the caller's permissions and whether MFA is required"
        case "ValidationError":
            return "fix the parameter the message names (duration_seconds, role_session_name, role_arn, …) in the config"
        case "RegionDisabledException":
            return "activate STS in this region for the account, or use another region or the global endpoint"
        default:
            return "fix the configuration or credentials, then run `credd refresh`"
        }
    }
}

/// STS calls fail with the Query client's error type.
public typealias STSError = AWSQueryError

extension AWSQueryError: CustomStringConvertible {
    /// One line: `STS AssumeRole failed: AccessDenied (HTTP 403, request id …): message. Next: …`.
    public var description: String {
        var facts: [String] = []
        if let httpStatus { facts.append("HTTP \(httpStatus)") }
        if let requestId { facts.append("request id \(requestId)") }
        if attempts > 1 { facts.append("\(attempts) attempts") }
        let what: String
        switch kind {
        case .service: what = code ?? "error without an AWS error code"
        case .transport(.timedOut): what = "timed out"
        case .transport(.connectionFailed): what = "connection failed"
        case .transport(.invalidRequest): what = "request could not be sent"
        case .malformedResponse: what = "unreadable response"
        case .invalidParameter: what = "invalid parameter"
        }
        let factText = facts.isEmpty ? "" : " (\(facts.joined(separator: ", ")))"
        return "\(service) \(action) failed: \(what)\(factText): \(message). Next: \(nextStep)"
    }
}

/// How AWS error codes map onto refresh decisions (docs/design.md §3).
public enum AWSErrorClassification {
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "IDPCommunicationError", "InternalFailure", "InternalError", "ServiceUnavailable", "RequestTimeout",
        "RequestTimeoutException",
    ]
    static let alwaysSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "AuthFailure",
    ]
    /// These codes also mean "wrong key"; only their skew messages count as skew.
    static let sometimesSkewCodes: Set<String> = ["SignatureDoesNotMatch", "InvalidSignatureException"]
    static let skewPhrases = ["signature expired", "signature not yet current", "too skewed", "clock skew"]

    /// The refresh decision for an error response.
    public static func disposition(code: String?, message: String, httpStatus: Int?) -> FailureDisposition {
        if let code {
            if throttlingCodes.contains(code) || transientCodes.contains(code) { return .retryable }
            if code == "ExpiredToken" || code == "ExpiredTokenException" { return .sourceExpired }
            if code == "AccessDenied" && isMFAFailure(message) { return .needsMFA }
            if isClockSkew(code: code, message: message) { return .retryable }
        }
        if let httpStatus, httpStatus >= 500 || httpStatus == 429 { return .retryable }
        return .needsChange
    }

    /// Whether the error says the request's timestamp is outside AWS's window.
    public static func isClockSkew(code: String?, message: String) -> Bool {
        guard let code else { return false }
        if alwaysSkewCodes.contains(code) { return true }
        let lowered = message.lowercased()
        return sometimesSkewCodes.contains(code) && skewPhrases.contains { lowered.contains($0) }
    }

    /// STS words a rejected MFA code as "MultiFactorAuthentication failed with invalid MFA one time pass code."
    static func isMFAFailure(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return lowered.contains("multifactorauthentication") || lowered.contains("one time pass code")
    }
}
