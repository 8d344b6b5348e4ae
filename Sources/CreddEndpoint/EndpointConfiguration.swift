import CreddCore
import FoundationEssentials
import Glibc

/// Everything the credential endpoint needs to know besides where credentials come from.
public struct EndpointConfiguration: Sendable {
    /// Loopback address to listen on when the endpoint binds its own socket.
    public var host: String
    /// Port to listen on; 0 picks a free one (see `CredentialEndpoint.boundPort`).
    public var port: Int
    /// The profile the IMDS role listing names; `nil` answers the listing with 404.
    public var imdsProfile: String?
    /// The value clients must send as `Authorization` on the container API.
    public var containerToken: Secret
    /// The only user whose processes are served: the daemon's own by default.
    public var servedUserID: UInt32
    /// Size, time and connection bounds; the defaults suit a workstation.
    public var limits: Limits

    public init(
        host: String = "127.0.0.1",
        port: Int = 9911,
        imdsProfile: String? = nil,
        containerToken: Secret,
        servedUserID: UInt32 = getuid(),
        limits: Limits = Limits()
    ) {
        self.host = host
        self.port = port
        self.imdsProfile = imdsProfile
        self.containerToken = containerToken
        self.servedUserID = servedUserID
        self.limits = limits
    }

    /// Bounds that keep one slow or hostile client from holding up the others.
    public struct Limits: Sendable, Hashable {
        /// Largest request target plus header names and values accepted (NIO's decoder limit);
        /// more gets 431 and the connection closed.
        /// (Bodies are never accepted: the API has none, so any body gets 413.)
        public var maxHeaderBytes: Int
        /// Time allowed to send a complete request head, from its first byte (and for a new connection, from accept).
        public var requestTimeout: Duration
        /// Time a keep-alive connection may sit idle between requests.
        public var idleTimeout: Duration
        /// Open connections per user at most; beyond it that user's least recently active one is
        /// closed to make room. (Only the served user's connections are kept open at all.)
        public var maxConnections: Int
        /// Descriptors kept free of connections for files, pipes and the control socket: the
        /// connections in all are capped at the descriptor limit less this.
        public var descriptorReserve: Int
        /// How often refused connections are logged, as one summary line per reason.
        public var refusalLogInterval: Duration
        /// IMDS session tokens remembered at most; beyond it the oldest is forgotten.
        public var maxIMDSTokens: Int

        public init(
            maxHeaderBytes: Int = 8192,
            requestTimeout: Duration = .seconds(5),
            idleTimeout: Duration = .seconds(10),
            maxConnections: Int = 512,
            maxIMDSTokens: Int = 1024,
            descriptorReserve: Int = 128,
            refusalLogInterval: Duration = .seconds(10)
        ) {
            self.maxHeaderBytes = maxHeaderBytes
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.maxIMDSTokens = maxIMDSTokens
            self.descriptorReserve = descriptorReserve
            self.refusalLogInterval = refusalLogInterval
        }
    }
}
