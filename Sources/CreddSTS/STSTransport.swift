import CreddSigV4
import FoundationEssentials

/// One HTTP request: a `POST` as the Query client sends it, or the console sign-in's `GET`.
public struct TransportRequest: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case get = "GET"
        case post = "POST"
    }

    public var method: Method
    public var url: URL
    public var headers: [SigV4Request.Header]
    public var body: [UInt8]

    public init(method: Method = .post, url: URL, headers: [SigV4Request.Header], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response: status, headers and the whole body.
public struct TransportResponse: Sendable, Hashable {
    public var status: Int
    public var headers: [SigV4Request.Header]
    public var body: [UInt8]

    public init(status: Int, headers: [SigV4Request.Header] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header called `name` (case-insensitive).
    public func headerValue(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// Why a request got no HTTP response. `detail` is secret-free (it never includes headers or bodies).
public struct TransportError: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The connect, read or overall deadline passed.
        case timedOut
        /// DNS, TCP, TLS or the connection dropped.
        case connectionFailed
        /// The request could not be sent at all (bad URL, client shut down).
        case invalidRequest
    }

    public let kind: Kind
    public let detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

/// Sends one request and returns the response. The seam between the Query client and the
/// network: production uses `HTTPClientSTSTransport`, tests a scripted fake.
public protocol STSTransport: Sendable {
    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse
}
