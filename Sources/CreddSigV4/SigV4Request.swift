/// An HTTP request as SigV4 sees it: the inputs of the canonical request, nothing transport-specific.
public struct SigV4Request: Sendable, Hashable {
    /// One header line. Names keep their case for sending; signing lowercases them.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One query parameter, not percent-encoded (the signer encodes it).
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// The URI path, not percent-encoded (the signer encodes each segment).
    public var path: String
    public var queryItems: [QueryItem]
    /// In sending order; must include `Host`. Repeated names are allowed.
    public var headers: [Header]
    public var body: [UInt8]

    public init(method: String, path: String, queryItems: [QueryItem] = [], headers: [Header], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.queryItems = queryItems
        self.headers = headers
        self.body = body
    }
}
