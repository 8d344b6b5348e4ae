import AsyncHTTPClient
import CreddCore
import FoundationEssentials
import NIOCore
import NIOHTTP1

/// The HTTP side of the OIDC and portal clients: rest-json, unsigned, over async-http-client
/// with the system CA store, bounded timeouts and no redirects.
public final class SSOHTTP: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration
        public var requestTimeout: Duration
        /// The APIs answer with a few KB (a page of accounts at most); anything far larger is not them.
        public var maxResponseBytes: Int

        public init(connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(30), maxResponseBytes: Int = 1 << 20) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    private let client: HTTPClient
    private let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout), read: Self.timeAmount(configuration.requestTimeout)))
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
    }

    /// Closes pooled connections. Call once, when done.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends one call and decodes its JSON answer; error answers become an `SSOError` whose
    /// texts are scrubbed of `secrets`.
    func call<Response: Decodable>(
        _ operation: String, method: HTTPMethod, url: String, headers: [(String, String)] = [], body: (any Encodable)? = nil,
        secrets: [Secret], as _: Response.Type
    ) async throws(SSOError) -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            guard let bytes = try? encoder.encode(body) else {
                throw SSOError(kind: .malformedResponse, operation: operation, message: "cannot encode the request")
            }
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        let status: Int
        let responseHeaders: HTTPHeaders
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(configuration.requestTimeout))
            status = Int(response.status.code)
            responseHeaders = response.headers
            bytes = Array(try await response.body.collect(upTo: configuration.maxResponseBytes).readableBytesView)
        } catch {
            // Connection errors describe the address, never the request.
            throw SSOError(kind: .transport, operation: operation, message: scrubbed(String(describing: error), removing: secrets))
        }
        let requestId = responseHeaders.first(name: "x-amzn-RequestId")
        guard (200..<300).contains(status) else {
            throw Self.serviceError(operation, status: status, headers: responseHeaders, body: bytes, requestId: requestId, secrets: secrets)
        }
        do {
            return try JSONDecoder().decode(Response.self, from: Data(bytes.isEmpty ? Array("{}".utf8) : bytes))
        } catch {
            throw SSOError(
                kind: .malformedResponse, operation: operation, message: "the answer is not the JSON \(operation) returns",
                requestId: requestId, httpStatus: status)
        }
    }

    /// The error code as botocore's rest-json parser finds it: the `x-amzn-ErrorType` header,
    /// else `__type` or `code` in the body; OAuth-style `error` values map to the model's names.
    static func serviceError(
        _ operation: String, status: Int, headers: HTTPHeaders, body: [UInt8], requestId: String?, secrets: [Secret]
    ) -> SSOError {
        struct ErrorBody: Decodable {
            var type: String?
            var code: String?
            var error: String?
            var message: String?
            var upperMessage: String?
            var errorDescription: String?

            enum CodingKeys: String, CodingKey {
                case type = "__type"
                case code, error, message
                case upperMessage = "Message"
                case errorDescription = "error_description"
            }
        }
        let parsed = try? JSONDecoder().decode(ErrorBody.self, from: Data(body))
        let header = headers.first(name: "x-amzn-ErrorType").map { String($0.split(separator: ":").first ?? "") }
        let named = [header, parsed?.type, parsed?.code].compactMap { $0 }.first { !$0.isEmpty }
            .map { String($0.split(separator: "#").last ?? "") }
        let code = named ?? parsed?.error.map { oauthErrorNames[$0] ?? $0 }
        let message = parsed?.message ?? parsed?.upperMessage ?? parsed?.errorDescription ?? "HTTP \(status)"
        return SSOError(
            kind: .service, code: code, operation: operation, message: scrubbed(message, removing: secrets), requestId: requestId,
            httpStatus: status)
    }

    /// OAuth 2.0 error values (RFC 6749, RFC 8628) and the sso-oidc model's exception names.
    static let oauthErrorNames = [
        "authorization_pending": "AuthorizationPendingException", "slow_down": "SlowDownException",
        "expired_token": "ExpiredTokenException", "invalid_grant": "InvalidGrantException", "access_denied": "AccessDeniedException",
        "invalid_client": "InvalidClientException", "unauthorized_client": "UnauthorizedClientException",
        "invalid_request": "InvalidRequestException", "invalid_scope": "InvalidScopeException",
        "unsupported_grant_type": "UnsupportedGrantTypeException",
    ]

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
