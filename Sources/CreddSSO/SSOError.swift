import CreddCore

/// A failed Identity Center operation: the cache file, the OIDC or portal call, or a sign-in.
///
/// Every text field is secret-free: AWS messages are cut to one line and scrubbed of the
/// request's secrets before they are stored, and no token is ever part of one.
public struct SSOError: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The service answered with an error (see ``SSOError/code``).
        case service
        /// No HTTP response arrived.
        case transport
        /// A success status whose body is not what the API returns.
        case malformedResponse
        /// The token cache file could not be read or parsed.
        case cacheUnreadable
        /// The token cache file could not be written.
        case cacheWriteFailed
        /// The sign-in did not complete (denied, timed out, wrong `state`, device code expired).
        case loginFailed
    }

    public let kind: Kind
    /// The AWS error code (`AuthorizationPendingException`, `InvalidGrantException`, …) when one was sent.
    public let code: String?
    /// The API operation (`CreateToken`, …), the file, or the flow that failed.
    public let operation: String
    /// What happened: one line, secret-free.
    public let message: String
    public let requestId: String?
    public let httpStatus: Int?

    public init(kind: Kind, code: String? = nil, operation: String, message: String, requestId: String? = nil, httpStatus: Int? = nil) {
        self.kind = kind
        self.code = code
        self.operation = operation
        self.message = message
        self.requestId = requestId
        self.httpStatus = httpStatus
    }

    /// Only a new sign-in helps: the refresh token, the client registration or the access token was refused.
    public var needsLogin: Bool {
        switch code {
        case "InvalidGrantException", "ExpiredTokenException", "UnauthorizedException", "InvalidClientException",
            "UnauthorizedClientException", "AccessDeniedException":
            true
        default:
            false
        }
    }

    /// Worth trying again later: no answer, throttling, a server error.
    public var isTransient: Bool {
        switch kind {
        case .transport, .malformedResponse: return true
        case .service: return code == "SlowDownException" || code == "TooManyRequestsException" || (httpStatus ?? 0) >= 500
        case .cacheUnreadable, .cacheWriteFailed, .loginFailed: return false
        }
    }

    /// What the user should do about this failure.
    public var nextStep: String {
        switch kind {
        case .transport, .malformedResponse:
            return
                "check the network and the Identity Center endpoint (AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_SSO, sso_region); credd retries with backoff"
        case .cacheUnreadable:
            return "fix or delete the cache file, then sign in again with `credd login SESSION`"
        case .cacheWriteFailed:
            return "check the permissions and free space of ~/.aws/sso/cache"
        case .loginFailed:
            return "run `credd login SESSION` again"
        case .service:
            break
        }
        if needsLogin { return "sign in again with `credd login SESSION`" }
        if isTransient { return "transient Identity Center error; credd retries with backoff" }
        switch code {
        case "InvalidScopeException":
            return "check sso_registration_scopes (use sso:account:access)"
        case "ResourceNotFoundException", "ForbiddenException":
            return "check sso_account_id and sso_role_name: the role is not assigned to this user"
        default:
            return "check the sso-session's sso_start_url and sso_region"
        }
    }
}

extension SSOError: CustomStringConvertible {
    public var description: String {
        var text = "\(operation) failed"
        if let code { text += ": \(code)" }
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        text += ": \(message)"
        if let requestId { text += " [request id \(requestId)]" }
        return text + "; \(nextStep)"
    }
}

/// One line of at most 300 characters, with every occurrence of a secret replaced.
func scrubbed(_ text: String, removing secrets: [Secret]) -> String {
    var result = text
    for secret in secrets where !secret.isEmpty {
        result = result.replacingEvery(secret.revealed, with: "<redacted>")
    }
    result = result.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.joined(separator: " ")
    return result.count > 300 ? String(result.prefix(300)) + "…" : result
}
