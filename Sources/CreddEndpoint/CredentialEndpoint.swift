import CreddCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The local credential endpoint: EC2 IMDSv2 and the container-credentials API on one loopback
/// HTTP/1.1 listener, served only to processes of one user.
///
/// Start it with `bind()` (the configured host and port) or `adopt(descriptor:)` (a socket passed
/// by systemd), then `run()` until the task is cancelled. `run()` binds by itself when neither was called.
public final class CredentialEndpoint: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias Listener = NIOAsyncChannel<Connection, Never>

    private enum ListenerState {
        case unbound
        case listening(Listener, port: Int)
        case running(port: Int)
    }

    private let configuration: EndpointConfiguration
    private let router: EndpointRouter
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let socketOwners: any SocketOwnerLookup
    private let registry: ConnectionRegistry
    private let listener = Mutex(ListenerState.unbound)

    /// - Parameters:
    ///   - source: where the credentials served come from; consulted on every request.
    ///   - wallClock: decides whether credentials and IMDS tokens have expired.
    ///   - socketOwners: finds the user behind each connection; the kernel's tables by default.
    public init(
        configuration: EndpointConfiguration,
        source: any EndpointCredentialSource,
        wallClock: any WallClock,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        socketOwners: any SocketOwnerLookup = ProcNetSocketOwnerLookup()
    ) {
        self.configuration = configuration
        self.router = EndpointRouter(
            imdsProfile: configuration.imdsProfile,
            containerToken: configuration.containerToken,
            tokens: IMDSTokenStore(capacity: configuration.limits.maxIMDSTokens, wallClock: wallClock),
            source: source,
            wallClock: wallClock
        )
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.socketOwners = socketOwners
        self.registry = ConnectionRegistry(capacity: configuration.limits.maxConnections)
    }

    /// The port listened on, once bound or adopted.
    public var boundPort: Int? {
        listener.withLock { state in
            switch state {
            case .unbound: return nil
            case .listening(_, let port), .running(let port): return port
            }
        }
    }

    /// Listens on the configured host and port, which must be a loopback address. Returns the port
    /// (useful with port 0).
    @discardableResult
    public func bind() async throws(EndpointError) -> Int {
        let host = configuration.host
        guard RequestPolicy.isLoopbackIPv4(host) || RequestPolicy.isLoopbackIPv6(host),
            let address = try? SocketAddress(ipAddress: host, port: configuration.port)
        else { throw .notLoopback(host) }
        let channel: Listener
        do {
            channel = try await makeBootstrap().bind(to: address, childChannelInitializer: initializeConnection)
        } catch {
            throw .bindFailed(host: host, port: configuration.port, reason: String(describing: error))
        }
        return try await install(channel)
    }

    /// Serves on an already listening TCP socket (systemd socket activation). The socket must be
    /// bound to a loopback address; otherwise it is closed and an error thrown.
    @discardableResult
    public func adopt(descriptor: CInt) async throws(EndpointError) -> Int {
        let channel: Listener
        do {
            channel = try await makeBootstrap().bind(descriptor, childChannelInitializer: initializeConnection)
        } catch {
            throw .adoptFailed(descriptor: descriptor, reason: String(describing: error))
        }
        let local = channel.channel.localAddress.flatMap(SocketEndpoint.init)
        guard let local, RequestPolicy.isLoopbackIPv6(Self.ipv6Text(local)) else {
            try? await channel.channel.close()
            throw .notLoopback(local.map(String.init(describing:)) ?? "the socket passed as fd \(descriptor)")
        }
        return try await install(channel)
    }

    /// Serves connections until the calling task is cancelled, then closes the listener.
    /// Errors on one connection close that connection only.
    public func run() async throws {
        if boundPort == nil { try await bind() }
        let channel: Listener? = listener.withLock { state in
            guard case .listening(let channel, let port) = state else { return nil }
            state = .running(port: port)
            return channel
        }
        guard let channel else { throw EndpointError.alreadyStarted }
        logger.info("credential endpoint listening", metadata: ["http.port": "\(boundPort ?? 0)"])
        // The accept loop must outlive cancellation: NIO fails a precondition when an accepted
        // connection is dropped unconsumed. Cancellation closes the listener and every
        // connection instead, and the loop drains what was already accepted, then ends.
        let acceptLoop = Task {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        }
        let registry = self.registry
        try await withTaskCancellationHandler {
            try await acceptLoop.value
        } onCancel: {
            channel.channel.close(promise: nil)
            registry.closeAll()
        }
    }

    private func install(_ channel: Listener) async throws(EndpointError) -> Int {
        let port = channel.channel.localAddress?.port ?? 0
        let installed = listener.withLock { state in
            guard case .unbound = state else { return false }
            state = .listening(channel, port: port)
            return true
        }
        guard installed else {
            try? await channel.channel.close()
            throw .alreadyStarted
        }
        return port
    }

    private func makeBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 511)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    }

    /// Runs on the connection's event loop before it reads anything.
    @Sendable
    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Connection> {
        let registry = self.registry
        let limits = configuration.limits
        return channel.eventLoop.makeCompletedFuture {
            switch registry.admit(channel) {
            case .admitted:
                break
            case .admittedEvicting(let evicted):
                evicted.close(promise: nil)
            case .refused:
                channel.close(promise: nil)
            }
            channel.closeFuture.whenComplete { _ in registry.remove(channel) }
            let connectionGuard = ConnectionGuardHandler(limits: limits, registry: registry)
            try channel.pipeline.syncOperations.addHandler(connectionGuard)
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(ResponseCompletionHandler(connectionGuard: connectionGuard))
            return try Connection(wrappingChannelSynchronously: channel)
        }
    }

    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        do {
            try await connection.executeThenClose { requests, responses in
                var peer: PeerVerdict?
                var pending: HTTPRequestHead?
                for try await part in requests {
                    let head: HTTPRequestHead
                    switch part {
                    case .head(let received):
                        // Bodies are refused at once rather than read; others are answered at their end.
                        guard EndpointRouter.declaresBody(received) else {
                            pending = received
                            continue
                        }
                        head = received
                    case .body:
                        continue
                    case .end:
                        guard let received = pending else { continue }
                        pending = nil
                        head = received
                    }
                    let verdict = peer ?? self.verifyPeer(of: channel)
                    peer = verdict
                    let response = await self.router.respond(to: head, peer: verdict)
                    self.log(response, for: head, peer: verdict)
                    let closing = response.closesConnection || !head.isKeepAlive
                    try await responses.write(contentsOf: Self.parts(of: response, answering: head, closing: closing))
                    if closing { return }
                }
            }
        } catch {
            // A client that vanishes mid-request is routine; the error text names no secret.
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func verifyPeer(of channel: any Channel) -> PeerVerdict {
        guard let remote = channel.remoteAddress.flatMap(SocketEndpoint.init), let local = channel.localAddress.flatMap(SocketEndpoint.init) else {
            return .unknown
        }
        do {
            guard let uid = try socketOwners.ownerUID(client: remote, server: local) else {
                logger.warning("no socket table entry for a client connection; refusing it", metadata: ["net.peer": "\(remote)"])
                return .unknown
            }
            return uid == configuration.servedUserID ? .servedUser : .otherUser(uid: uid)
        } catch {
            logger.error("cannot check which user a client runs as; refusing it", metadata: ["error": "\(error)"])
            return .unknown
        }
    }

    private func log(_ response: EndpointResponse, for head: HTTPRequestHead, peer: PeerVerdict) {
        var metadata: Logger.Metadata = [
            "http.method": "\(head.method.rawValue.prefix(16))",
            "http.route": "\(response.route.rawValue)",
            "http.status": "\(response.status.code)",
        ]
        if let profile = response.profile { metadata["credd.profile"] = "\(profile)" }
        switch (response.refusal, peer) {
        case (nil, _):
            logger.debug("served a request", metadata: metadata)
        case ("peer-user", .otherUser(let uid)):
            metadata["net.peer.uid"] = "\(uid)"
            logger.warning("refused a client running as another user", metadata: metadata)
        case ("peer-user", _), ("host", _), ("browser", _), ("forwarded", _):
            metadata["credd.refusal"] = "\(response.refusal ?? "")"
            logger.notice("refused a request", metadata: metadata)
        case ("unavailable", _):
            logger.info("no valid credentials to serve", metadata: metadata)
        case (let refusal?, _):
            metadata["credd.refusal"] = "\(refusal)"
            logger.debug("refused a request", metadata: metadata)
        }
    }

    static func parts(of response: EndpointResponse, answering head: HTTPRequestHead, closing: Bool) -> [HTTPServerResponsePart] {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        for header in response.extraHeaders {
            headers.add(name: header.name, value: header.value)
        }
        if closing {
            headers.add(name: "Connection", value: "close")
        } else if head.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        var parts: [HTTPServerResponsePart] = [
            .head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))
        ]
        if head.method != .HEAD {
            parts.append(.body(.byteBuffer(ByteBuffer(string: response.body))))
        }
        parts.append(.end(nil))
        return parts
    }

    private static func ipv6Text(_ endpoint: SocketEndpoint) -> String {
        stride(from: 0, to: 16, by: 2)
            .map { String(UInt16(endpoint.address[$0]) << 8 | UInt16(endpoint.address[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

extension SocketEndpoint {
    /// The IP address and port of a NIO socket address; `nil` for Unix sockets.
    init?(_ address: SocketAddress) {
        guard let port = address.port.flatMap(UInt16.init(exactly:)) else { return nil }
        switch address {
        case .v4(let ipv4):
            self.init(address: withUnsafeBytes(of: ipv4.address.sin_addr) { Array($0) }, port: port)
        case .v6(let ipv6):
            self.init(address: withUnsafeBytes(of: ipv6.address.sin6_addr) { Array($0) }, port: port)
        case .unixDomainSocket:
            return nil
        }
    }
}
