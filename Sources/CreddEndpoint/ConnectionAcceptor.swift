import CGlibcGNU
import CreddCore
import CreddPlatform
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix

/// Accepts the endpoint's connections with `accept4(SOCK_CLOEXEC)` on a thread of its own and
/// hands each socket to NIO. NIO's own accept leaves sockets inheritable, so every process credd
/// spawns (an `mfa_process`, a `credential_process`) would get a copy of each client connection
/// open at that moment, and keep it open after credd closed its own.
enum ConnectionAcceptor {
    /// Accepts on `listener` until it is shut down (`shutdown(2)`), then returns; the caller closes it.
    /// - Parameter initializer: sets up each connection's channel, on its event loop.
    static func run(
        listener: CInt, group: any EventLoopGroup, initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>, logger: Logger
    ) async {
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let acceptLoop: @Sendable () -> Void = {
                requestShortSchedulerSlice()
                let bootstrap = ClientBootstrap(group: group).channelOption(.tcpOption(.tcp_nodelay), value: 1).channelInitializer(initializer)
                acceptUntilShutDown(listener: listener, bootstrap: bootstrap, logger: logger)
                finished.resume()
            }
            // No thread to be had: accept on this one rather than not at all.
            if !detachThread(acceptLoop) { acceptLoop() }
        }
    }

    private static func acceptUntilShutDown(listener: CInt, bootstrap: ClientBootstrap, logger: Logger) {
        var starved = false
        while true {
            let descriptor = accept4(listener, nil, nil, CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue))
            guard descriptor < 0 else {
                starved = false
                bootstrap.withConnectedSocket(descriptor).whenFailure { error in
                    logger.debug("could not serve an accepted connection", metadata: ["error": "\(error)"])
                }
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO, EPERM:
                // The one connection failed (accept(2) lists these as per-connection errors).
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors or memory: retry shortly rather than spin; closing connections make room.
                if !starved {
                    logger.warning("cannot accept connections", metadata: ["error": "\(String(cString: strerror(errno)))"])
                    starved = true
                }
                usleep(50_000)
            default:
                // EINVAL once the listener is shut down.
                return
            }
        }
    }
}
