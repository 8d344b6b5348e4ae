import Foundation
import NIOCore

/// The endpoint's listening socket, opened close-on-exec: NIO opens its sockets without it, so
/// a process credd spawns (an `mfa_process`) would inherit the port and keep it open after the
/// endpoint stops.
enum ListeningSocket {
    /// A socket bound to `address` (`host` and `port` as configured, for the error) and listening.
    static func open(_ address: SocketAddress, host: String, port: Int, backlog: CInt) throws(EndpointError) -> CInt {
        let descriptor = socket(address.protocol.rawValue, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .bindFailed(host: host, port: port, reason: String(cString: strerror(errno))) }
        var reuse: CInt = 1
        let bound = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<CInt>.size)) == 0
            && address.withSockAddr { bind(descriptor, $0, socklen_t($1)) } == 0
            && listen(descriptor, backlog) == 0
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .bindFailed(host: host, port: port, reason: reason)
        }
        return descriptor
    }

    /// Marks an inherited descriptor (systemd's) close-on-exec, for the same reason.
    static func closeOnExec(_ descriptor: CInt) {
        let flags = fcntl(descriptor, F_GETFD)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
    }
}
