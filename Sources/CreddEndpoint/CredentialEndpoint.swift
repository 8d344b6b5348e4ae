import CreddCore
import CreddPlatform
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The local credential endpoint: EC2 IMDSv2 and the container-credentials API over HTTP/1.1 on
/// loopback (127.0.0.1 and ::1 at one port), served only to processes of one user.
///
/// Start it with `listen(adopting:)`, which binds the configured port (`bind()`) or takes the
/// sockets systemd passed (`adopt(descriptors:)`) and listens from then on (connections wait in
/// the backlog), and `run()`, which serves until the task is cancelled or a graceful shutdown
/// begins (it is the daemon's ServiceLifecycle `Service`). `run()` binds by itself
/// when neither was called. Each connection's user is settled from the kernel's socket table as
/// it is accepted; other users' connections are closed before anything is read. Requests are
/// answered on the connections' event loops through NIO's HTTP/1.1 server pipeline, with no hop
/// to Swift concurrency: everything a response needs is in memory.
public final class CredentialEndpoint: Service {
    /// Whether the endpoint serves, from `listen(adopting:)`.
    public enum Listening: Sendable {
        case serving(port: Int)
        /// Another program listens on the port (on either loopback family): the endpoint stays
        /// off, `run()` serves nothing, and the error says so for the log and status.
        case portHeld(EndpointError)
    }

    private enum ListenerState {
        case unbound
        case listening(descriptors: [CInt], port: Int)
        case portHeld
        case running(port: Int)
    }

    private let configuration: EndpointConfiguration
    private let router: EndpointRouter
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let socketOwners: any SocketOwnerLookup
    private let registry: ConnectionRegistry
    private let listener = Mutex(ListenerState.unbound)
    private let refusals = Mutex(RefusalTally())
    private let stopped = Atomic<Bool>(false)

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
        self.registry = ConnectionRegistry(
            capacityPerUser: configuration.limits.maxConnections,
            totalCapacity: Self.descriptorBudget(reserve: configuration.limits.descriptorReserve))
    }

    /// The port listened on, once bound or adopted.
    public var boundPort: Int? {
        listener.withLock { state in
            switch state {
            case .unbound, .portHeld: return nil
            case .listening(_, let port), .running(let port): return port
            }
        }
    }

    /// Takes the sockets systemd passed (all named `endpoint`), or binds the configured port when
    /// there are none. A port another program holds is reported, not thrown: the daemon keeps
    /// running without the endpoint. Other failures (not loopback, a wrong socket) throw.
    public func listen(adopting descriptors: [CInt]) async throws(EndpointError) -> Listening {
        do {
            return .serving(port: descriptors.isEmpty ? try await bind() : try await adopt(descriptors: descriptors))
        } catch {
            guard error.isPortHeld else { throw error }
            return .portHeld(error)
        }
    }

    /// Listens on the configured port of both loopback families: the configured loopback address
    /// (`localhost` is 127.0.0.1) and the other family's (::1 or 127.0.0.1), so that no other user
    /// can take `localhost`'s other address. A machine without IPv6 is served on IPv4 alone.
    /// Returns the port (useful with port 0). Throws `portHeld` when another program listens on
    /// either address; then nothing is bound.
    @discardableResult
    public func bind() async throws(EndpointError) -> Int {
        let hosts = try Self.loopbackHosts(for: configuration.host)
        // With port 0 the kernel picks a port free on the first family only: try a few.
        let attempts = configuration.port == 0 ? 8 : 1
        var held = ""
        for _ in 0..<attempts {
            switch try openListeners(hosts: hosts, port: configuration.port) {
            case .opened(let descriptors, let port):
                return try install(descriptors, port: port)
            case .held(let address):
                held = address
            }
        }
        listener.withLock { state in
            if case .unbound = state { state = .portHeld }
        }
        throw .portHeld(address: held)
    }

    /// Serves on already listening TCP sockets (systemd socket activation), which must be bound
    /// to loopback addresses; otherwise all are closed and an error thrown.
    @discardableResult
    public func adopt(descriptors: [CInt]) async throws(EndpointError) -> Int {
        var port: Int?
        for descriptor in descriptors {
            ListeningSocket.closeOnExec(descriptor)
            guard let local = ListeningSocket.localEndpoint(descriptor) else {
                let reason = String(cString: strerror(errno))
                descriptors.forEach { close($0) }
                throw .adoptFailed(descriptor: descriptor, reason: "not a bound IP socket (\(reason))")
            }
            guard RequestPolicy.isLoopbackIPv6(Self.ipv6Text(local)) else {
                descriptors.forEach { close($0) }
                throw .notLoopback(String(describing: local))
            }
            port = port ?? Int(local.port)
        }
        guard let port else { throw .adoptFailed(descriptor: -1, reason: "systemd passed no socket named endpoint") }
        return try install(descriptors, port: port)
    }

    /// Whether `run()` has returned: the endpoint serves no more.
    public var hasStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Serves connections until the calling task is cancelled or a graceful shutdown begins, then
    /// closes the listeners and every connection. Errors on one connection close that connection
    /// only; an error that stops the endpoint is logged and thrown. With the port held by another
    /// program, serves nothing until then.
    public func run() async throws {
        defer { stopped.store(true, ordering: .relaxed) }
        do {
            try await cancelWhenGracefulShutdown { try await self.serveUntilCancelled() }
        } catch is CancellationError {
            // A normal shutdown.
        } catch {
            logger.critical("the credential endpoint stopped: \(error)")
            throw error
        }
    }

    private func serveUntilCancelled() async throws {
        if case .unbound = listener.withLock({ $0 }) { try await bind() }
        let taken: (descriptors: [CInt], port: Int)?? = listener.withLock { state in
            switch state {
            case .listening(let descriptors, let port):
                state = .running(port: port)
                return (descriptors, port)
            case .portHeld:
                return .some(nil)
            case .unbound, .running:
                return nil
            }
        }
        guard let taken else { throw EndpointError.alreadyStarted }
        guard let (descriptors, port) = taken else { return await Self.untilCancelled() }

        let channels = try await serve(descriptors)
        logger.info(
            "credential endpoint listening",
            metadata: [
                "http.port": "\(port)", "net.addresses": "\(channels.compactMap { $0.localAddress?.ipAddress }.joined(separator: " "))",
            ])
        let registry = self.registry
        await withTaskCancellationHandler {
            for channel in channels { try? await channel.closeFuture.get() }
        } onCancel: {
            // close(2) only: the listeners may be systemd's, which must stay listening for the next start.
            for channel in channels { channel.close(promise: nil) }
            registry.closeAll()
        }
        flushRefusals()
    }

    /// NIO server channels on the listening sockets; on failure none is left open.
    private func serve(_ descriptors: [CInt]) async throws -> [any Channel] {
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.maxMessagesPerRead, value: 16)
            .serverChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    // Out of descriptors: pause accepting briefly rather than spin; closing connections make room.
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptBackoffHandler { [self] error in
                            guard [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) else { return nil }
                            noteRefusal(.acceptPaused(String(cString: strerror(error.errnoCode))), on: channel.eventLoop)
                            return .milliseconds(100)
                        })
                    try channel.pipeline.syncOperations.addHandler(
                        PeerGate(refusal: { [self] in refusal(of: $0) }, refused: { [self] in noteRefusal($0, on: channel.eventLoop) }))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Small reads, one at a time: what a client sends ahead is held in bounded pieces.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16384))
            .childChannelInitializer(initializeConnection)
        var channels: [any Channel] = []
        for (index, descriptor) in descriptors.enumerated() {
            do {
                channels.append(try await bootstrap.withBoundSocket(descriptor).get())
                // NIO re-listens an adopted socket with a backlog of 128, whatever it had; put back
                // the depth a flood of refused connections needs in front of the served user's.
                Glibc.listen(descriptor, Self.backlog)
            } catch {
                descriptors.dropFirst(index + 1).forEach { close($0) }
                for channel in channels { try? await channel.close() }
                throw error
            }
        }
        return channels
    }

    private static func untilCancelled() async {
        let (never, end) = AsyncStream<Never>.makeStream()
        await withTaskCancellationHandler {
            for await _ in never {}
        } onCancel: {
            end.finish()
        }
    }

    private func install(_ descriptors: [CInt], port: Int) throws(EndpointError) -> Int {
        let installed = listener.withLock { state in
            guard case .unbound = state else { return false }
            state = .listening(descriptors: descriptors, port: port)
            return true
        }
        guard installed else {
            descriptors.forEach { close($0) }
            throw .alreadyStarted
        }
        return port
    }

    /// As deep as the kernel allows (net.core.somaxconn), as systemd sets it: a burst of refused
    /// connections should not fill the queue in front of the served user's.
    private static let backlog: CInt = 4096

    private enum Opening {
        case opened([CInt], port: Int)
        case held(address: String)
    }

    /// Listening sockets on `hosts` (the configured family first) at one port.
    private func openListeners(hosts: [String], port: Int) throws(EndpointError) -> Opening {
        var descriptors: [CInt] = []
        var chosenPort = port
        for (index, host) in hosts.enumerated() {
            guard let address = try? SocketAddress(ipAddress: host, port: chosenPort) else { throw .notLoopback(host) }
            switch ListeningSocket.open(address, backlog: Self.backlog) {
            case .success(let descriptor):
                descriptors.append(descriptor)
                if chosenPort == 0 { chosenPort = ListeningSocket.localEndpoint(descriptor).map { Int($0.port) } ?? 0 }
            case .failure(let failure) where failure.errno == EADDRINUSE:
                descriptors.forEach { close($0) }
                return .held(address: Self.display(host: host, port: chosenPort))
            case .failure(let failure) where index > 0 && (failure.errno == EADDRNOTAVAIL || failure.errno == EAFNOSUPPORT):
                logger.warning("the credential endpoint listens on \(hosts[0]) only: \(host) is unavailable on this machine (\(failure.reason))")
            case .failure(let failure):
                descriptors.forEach { close($0) }
                throw .bindFailed(host: host, port: chosenPort, reason: failure.reason)
            }
        }
        return .opened(descriptors, port: chosenPort)
    }

    /// The configured host and the other family's loopback address.
    private static func loopbackHosts(for host: String) throws(EndpointError) -> [String] {
        if host.lowercased() == "localhost" { return ["127.0.0.1", "::1"] }
        if RequestPolicy.isLoopbackIPv4(host) { return [host, "::1"] }
        if host == "::1" || host == "[::1]" { return ["::1", "127.0.0.1"] }
        throw .notLoopback(host)
    }

    private static func display(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Connections the descriptor limit leaves room for, keeping `reserve` for files, pipes and
    /// the control socket.
    private static func descriptorBudget(reserve: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        return max(1, Int(clamping: limit.rlim_cur) - reserve)
    }

    /// Runs on the connection's event loop once `PeerGate` let it through, before anything is read.
    @Sendable
    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            switch registry.admit(channel, uid: configuration.servedUserID) {
            case .admitted:
                break
            case .admittedEvicting(let evicted):
                evicted.close(promise: nil)
            case .refused:
                channel.close(promise: nil)
                return
            }
            let registry = self.registry
            channel.closeFuture.whenComplete { _ in registry.remove(channel) }
            try Self.configureConnection(channel, limits: configuration.limits, registry: registry, router: router, logger: logger)
        }
    }

    /// A served connection's handlers, in order; also what the endpoint fuzzer drives (Fuzz/).
    static func configureConnection(
        _ channel: any Channel, limits: EndpointConfiguration.Limits, registry: ConnectionRegistry, router: EndpointRouter, logger: Logger
    ) throws {
        let timeouts = ConnectionTimeoutHandler(limits: limits, registry: registry)
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(timeouts)
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        // The request target and the header fields count; more gets 431.
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        try operations.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withErrorHandling: false, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        try operations.addHandler(EndpointRequestHandler(router: router, timeouts: timeouts, logger: logger))
    }

    /// Why a new connection is refused; `nil` for a process of the served user.
    private func refusal(of channel: any Channel) -> ConnectionRefusal? {
        do {
            guard let uid = try socketOwners.ownerUID(of: channel) else { return .noSocketEntry }
            return uid == configuration.servedUserID ? nil : .otherUser(uid: uid)
        } catch {
            return .lookupFailed("\(error)")
        }
    }

    /// Counts a refusal; the first of an interval schedules the summary line.
    private func noteRefusal(_ refusal: ConnectionRefusal, on loop: any EventLoop) {
        guard refusals.withLock({ $0.record(refusal) }) else { return }
        loop.scheduleTask(in: TimeAmount(configuration.limits.refusalLogInterval)) { [self] in flushRefusals() }
    }

    private func flushRefusals() {
        for (refusal, count) in refusals.withLock({ $0.drain() }) {
            let metadata: Logger.Metadata = ["credd.refused": "\(count)"]
            switch refusal {
            case .otherUser(let uid):
                logger.warning(
                    "refused \(count) connection(s) from uid \(uid): credd serves only the user it runs as",
                    metadata: metadata.merging(["net.peer.uid": "\(uid)"]) { $1 })
            case .noSocketEntry:
                logger.warning(
                    "refused \(count) connection(s) whose client socket the kernel does not list (another network namespace, or already closed)",
                    metadata: metadata)
            case .lookupFailed(let reason):
                logger.error(
                    "cannot check which user a client runs as; refused \(count) connection(s)",
                    metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            case .acceptPaused(let reason):
                logger.warning("paused accepting connections \(count) time(s): \(reason)", metadata: metadata)
            }
        }
    }

    private static func ipv6Text(_ endpoint: SocketEndpoint) -> String {
        stride(from: 0, to: 16, by: 2)
            .map { String(UInt16(endpoint.address[$0]) << 8 | UInt16(endpoint.address[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

extension SocketOwnerLookup {
    /// The uid behind an accepted TCP connection; `nil` when the kernel lists no such client
    /// socket or the channel has no IP addresses. Also what `credd login`'s redirect listener
    /// uses to turn other users away.
    public func ownerUID(of channel: any Channel) throws(EndpointError) -> UInt32? {
        guard let remote = channel.remoteAddress.flatMap(SocketEndpoint.init), let local = channel.localAddress.flatMap(SocketEndpoint.init) else {
            return nil
        }
        return try ownerUID(client: remote, server: local)
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
