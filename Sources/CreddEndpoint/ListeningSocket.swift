import FoundationEssentials
import Glibc
import NIOCore

/// The endpoint's listening socket, opened close-on-exec: NIO opens its sockets without it, so
/// a process credd spawns (an `mfa_process`) would inherit the port and keep it open after the
/// endpoint stops.
enum ListeningSocket {
    /// A socket bound to `address` and listening, or the errno of the step that failed.
    /// An IPv6 socket takes IPv6 clients only, so that the IPv4 port is bound on its own.
    static func open(_ address: SocketAddress, backlog: CInt) -> Result<CInt, SocketFailure> {
        let descriptor = socket(address.protocol.rawValue, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(SocketFailure(errno: errno)) }
        var on: CInt = 1
        let size = socklen_t(MemoryLayout<CInt>.size)
        let bound =
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, size) == 0
            && (address.protocol != .inet6 || setsockopt(descriptor, CInt(IPPROTO_IPV6), IPV6_V6ONLY, &on, size) == 0)
            && address.withSockAddr { bind(descriptor, $0, socklen_t($1)) } == 0
            && listen(descriptor, backlog) == 0
        guard bound else {
            let failure = SocketFailure(errno: errno)
            close(descriptor)
            return .failure(failure)
        }
        return .success(descriptor)
    }

    struct SocketFailure: Error {
        let errno: CInt
        var reason: String { String(cString: strerror(errno)) }
    }

    /// Marks an inherited descriptor (systemd's) close-on-exec, for the same reason.
    static func closeOnExec(_ descriptor: CInt) {
        let flags = fcntl(descriptor, F_GETFD)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// The address a socket is bound to; `nil` when it is not an IP socket or `getsockname` fails.
    static func localEndpoint(_ descriptor: CInt) -> SocketEndpoint? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch CInt(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            return SocketEndpoint(address: withUnsafeBytes(of: address.sin_addr) { Array($0) }, port: UInt16(bigEndian: address.sin_port))
        case AF_INET6:
            let address = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            return SocketEndpoint(address: withUnsafeBytes(of: address.sin6_addr) { Array($0) }, port: UInt16(bigEndian: address.sin6_port))
        default:
            return nil
        }
    }
}
