import CreddControl
import CreddCore
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon side of the control socket: one JSON request line in, one JSON response line out,
/// then close. Only peers running as the daemon's own uid (SO_PEERCRED) are answered.
/// Connections wait in the backlog until `run()` serves them.
public struct ControlServer: Service {
    public typealias Handler = @Sendable (ControlRequest) async -> ControlResponse

    private let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let handler: Handler
    private let logger: Logger
    public let path: String

    /// Binds the socket at `path` (replacing a stale socket file) with mode 0600; `handler` answers each request.
    public static func bind(path: String, logger: Logger, handler: @escaping Handler) async throws(DaemonError) -> ControlServer {
        do {
            let channel = try await bootstrap()
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { child in
                    acceptedConnection(child)
                }
            guard chmod(path, 0o600) == 0 else {
                try? await channel.channel.close()
                throw DaemonError.controlSocket(path, String(cString: strerror(errno)))
            }
            return ControlServer(channel: channel, handler: handler, logger: logger, path: path)
        } catch let error as DaemonError {
            throw error
        } catch {
            throw DaemonError.controlSocket(path, "\(error)")
        }
    }

    /// Adopts a listening socket passed by systemd socket activation.
    public static func adopt(descriptor: CInt, path: String, logger: Logger, handler: @escaping Handler) async throws(DaemonError) -> ControlServer {
        do {
            let channel = try await bootstrap()
                .bind(NIOBSDSocket.Handle(descriptor), cleanupExistingSocketFile: false) { child in
                    acceptedConnection(child)
                }
            return ControlServer(channel: channel, handler: handler, logger: logger, path: path)
        } catch {
            throw DaemonError.controlSocket(path, "\(error)")
        }
    }

    /// A client that closes its writing side before a whole request line still gets the answer
    /// saying so (NIO would otherwise close the connection at the end of its input).
    private static func bootstrap() -> ServerBootstrap {
        ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).childChannelOption(.allowRemoteHalfClosure, value: true)
    }

    /// Serves until the surrounding task is cancelled or a graceful shutdown begins. A failing
    /// connection never stops the server.
    public func run() async {
        await cancelWhenGracefulShutdown { await serve() }
    }

    private func serve() async {
        await withDiscardingTaskGroup { group in
            do {
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await serve(connection) }
                    }
                }
            } catch {
                logger.debug("control socket closed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var pending = ByteBuffer()
                var request: ControlRequest?
                for try await var chunk in inbound {
                    pending.writeBuffer(&chunk)
                    if let newline = pending.readableBytesView.firstIndex(of: ControlFraming.terminator) {
                        let line = pending.getSlice(at: pending.readerIndex, length: newline - pending.readerIndex) ?? ByteBuffer()
                        request = try ControlFraming.decode(ControlRequest.self, from: line.readableBytesView)
                        break
                    }
                    guard pending.readableBytes <= ControlFraming.maximumRequestBytes else { break }
                }
                let response: ControlResponse
                if let request {
                    response = await handler(request)
                } else {
                    response = .failure("the request was empty, too long or not terminated by a newline")
                }
                try await outbound.write(ByteBuffer(bytes: try ControlFraming.line(response)))
            }
        } catch {
            logger.debug("control connection failed", metadata: ["error": "\(type(of: error))"])
        }
    }

    /// Wraps a connection from our own uid; any other peer is disconnected at once.
    private static func acceptedConnection(_ child: any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> {
        checkPeerCredentials(child)
            .flatMapThrowing { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
            .flatMapErrorThrowing { error in
                child.close(promise: nil)
                throw error
            }
    }

    private static func checkPeerCredentials(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(DaemonError.controlSocket("", "peer credentials unavailable"))
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMapThrowing { peer in
            guard peer.uid == getuid() else {
                throw DaemonError.controlSocket("", "refused a client running as uid \(peer.uid)")
            }
        }
    }
}

/// The layout of Linux's `struct ucred`, which Glibc only exposes under `_GNU_SOURCE`.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
