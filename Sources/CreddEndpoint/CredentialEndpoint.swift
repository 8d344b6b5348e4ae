import CreddCore
import CreddPlatform
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The local credential endpoint: EC2 IMDSv2 and the container-credentials API on one loopback
/// HTTP/1.1 listener, served only to processes of one user.
///
/// Start it with `bind()` (the configured host and port) or `adopt(descriptor:)` (a socket passed
/// by systemd), which listen from then on (connections wait in the backlog), and `run()`, which
/// serves until the task is cancelled. `run()` binds by itself when neither was called. Requests are answered on the
/// connections' event loops, with no hop to Swift concurrency: everything a response needs is
/// in memory.
public final class CredentialEndpoint: Sendable {
    private enum ListenerState {
        case unbound
        case listening(descriptor: CInt, port: Int)
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
    ///   - source: where the credentials served come from; consulted on every request, on the event loop.
    ///   - wallClock: decides whether credentials and IMDS tokens have expired.
    ///   - socketOwners: finds the user behind each connection; the kernel's tables by default.
    public init(
        configuration: EndpointConfiguration,
        source: any EndpointCredentialSource,
        wallClock: any WallClock,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        socketOwners: any SocketOwnerLookup = KernelSocketOwnerLookup()
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
        let descriptor = try ListeningSocket.open(address, host: host, port: configuration.port, backlog: 511)
        return try install(descriptor, port: ListeningSocket.localEndpoint(descriptor).map { Int($0.port) } ?? 0)
    }

    /// Serves on an already listening TCP socket (systemd socket activation). The socket must be
    /// bound to a loopback address; otherwise it is closed and an error thrown.
    @discardableResult
    public func adopt(descriptor: CInt) async throws(EndpointError) -> Int {
        ListeningSocket.closeOnExec(descriptor)
        guard let local = ListeningSocket.localEndpoint(descriptor) else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .adoptFailed(descriptor: descriptor, reason: "not a bound IP socket (\(reason))")
        }
        guard RequestPolicy.isLoopbackIPv6(Self.ipv6Text(local)) else {
            close(descriptor)
            throw .notLoopback(String(describing: local))
        }
        return try install(descriptor, port: Int(local.port))
    }

    /// Serves connections until the calling task is cancelled, then closes the listener and
    /// every connection. Errors on one connection close that connection only.
    public func run() async throws {
        if boundPort == nil { try await bind() }
        let descriptor: CInt? = listener.withLock { state in
            guard case .listening(let descriptor, let port) = state else { return nil }
            state = .running(port: port)
            return descriptor
        }
        guard let descriptor else { throw EndpointError.alreadyStarted }
        logger.info("credential endpoint listening", metadata: ["http.port": "\(boundPort ?? 0)"])
        // Requests are answered on these threads in microseconds: they should not wait for a
        // busy neighbour's scheduler slice to end (p99 latency, BENCHMARKS.md).
        for loop in eventLoopGroup.makeIterator() {
            loop.execute { requestShortSchedulerSlice() }
        }
        let registry = self.registry
        await withTaskCancellationHandler {
            await ConnectionAcceptor.run(listener: descriptor, group: eventLoopGroup, initializer: initializeConnection, logger: logger)
        } onCancel: {
            // Wakes the acceptor's blocked accept(2), which then returns.
            shutdown(descriptor, CInt(SHUT_RDWR))
            registry.closeAll()
        }
        close(descriptor)
    }

    private func install(_ descriptor: CInt, port: Int) throws(EndpointError) -> Int {
        let installed = listener.withLock { state in
            guard case .unbound = state else { return false }
            state = .listening(descriptor: descriptor, port: port)
            return true
        }
        guard installed else {
            close(descriptor)
            throw .alreadyStarted
        }
        return port
    }

    /// Runs on the connection's event loop before it reads anything.
    @Sendable
    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Void> {
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
            try Self.configureConnection(channel, limits: limits, registry: registry, router: router, logger: logger, verifyPeer: verifyPeer)
        }
    }

    /// A connection's handlers, in order; also what the endpoint fuzzer drives (Fuzz/).
    static func configureConnection(
        _ channel: any Channel, limits: EndpointConfiguration.Limits, registry: ConnectionRegistry, router: EndpointRouter,
        logger: Logger, verifyPeer: @escaping (any Channel) -> PeerVerdict
    ) throws {
        let connectionGuard = ConnectionGuardHandler(limits: limits, registry: registry)
        try channel.pipeline.syncOperations.addHandler(connectionGuard)
        // No HTTP codec: the guard cuts out whole heads, the request handler parses each one and
        // writes its response as bytes, synchronously and in request order.
        try channel.pipeline.syncOperations.addHandler(
            EndpointRequestHandler(router: router, connectionGuard: connectionGuard, logger: logger, verifyPeer: verifyPeer))
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
