import AsyncHTTPClient
import FoundationEssentials
import NIOCore

/// `STSTransport` over async-http-client: HTTPS with the system CA store, connect and read
/// timeouts, no redirects (a redirected STS call is a misconfigured endpoint, not a success).
public final class HTTPClientSTSTransport: STSTransport {
    /// Timeouts and limits.
    public struct Configuration: Sendable {
        public var connectTimeout: Duration
        /// Longest silence while waiting for response bytes.
        public var readTimeout: Duration
        /// Deadline for the whole exchange, connect to last body byte.
        public var requestTimeout: Duration
        /// STS responses are a few KB; anything far larger is not STS.
        public var maxResponseBytes: Int
        /// How long a connection is kept for reuse after its last request.
        public var idleConnectionTimeout: Duration

        public init(
            connectTimeout: Duration = .seconds(5),
            readTimeout: Duration = .seconds(15),
            requestTimeout: Duration = .seconds(30),
            maxResponseBytes: Int = 1 << 20,
            idleConnectionTimeout: Duration = .seconds(1)
        ) {
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
            self.idleConnectionTimeout = idleConnectionTimeout
        }
    }

    private let client: HTTPClient
    private let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        // The default TLS configuration verifies against the system's CA store.
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout), read: Self.timeAmount(configuration.readTimeout))
        )
        // Renewals come in bursts tens of minutes apart, and a burst reuses its connections. An
        // idle connection kept longer (the default is 60 s) would only wake the idle daemon later
        // to close it.
        clientConfiguration.connectionPool = .init(idleTimeout: Self.timeAmount(configuration.idleConnectionTimeout))
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
    }

    /// Closes pooled connections. Call once, before the process exits.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        var httpRequest = HTTPClientRequest(url: request.url.absoluteString)
        for header in request.headers {
            httpRequest.headers.add(name: header.name, value: header.value)
        }
        switch request.method {
        case .get: httpRequest.method = .GET
        case .post:
            httpRequest.method = .POST
            httpRequest.body = .bytes(request.body)
        }
        do {
            let response = try await client.execute(httpRequest, timeout: Self.timeAmount(configuration.requestTimeout))
            let body = try await response.body.collect(upTo: configuration.maxResponseBytes)
            return TransportResponse(
                status: Int(response.status.code),
                headers: response.headers.map { .init(name: $0.name, value: $0.value) },
                body: Array(body.readableBytesView)
            )
        } catch {
            throw Self.transportError(error)
        }
    }

    static func transportError(_ error: any Error) -> TransportError {
        if let clientError = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [
                .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout,
            ]
            let unsendable: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown]
            if timeouts.contains(clientError) { return TransportError(kind: .timedOut, detail: "\(clientError)") }
            if unsendable.contains(clientError) { return TransportError(kind: .invalidRequest, detail: "\(clientError)") }
            return TransportError(kind: .connectionFailed, detail: "\(clientError)")
        }
        // NIO connection errors (refused, DNS, TLS) describe the address, never the request.
        return TransportError(kind: .connectionFailed, detail: String(describing: error))
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
