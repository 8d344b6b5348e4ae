#if canImport(Glibc)
import Glibc
#endif

/// What sd_is_socket_inet(3) and sd_is_socket_unix(3) tell about a passed descriptor: whether it
/// is a listening stream socket of the expected family (and, for AF_UNIX, bound to a path).
enum ListeningSocketCheck {
    /// The descriptor could not be inspected.
    struct Failure: Error {
        let errno: CInt
    }

    /// A listening TCP socket, IPv4 or IPv6.
    static func isTCP(_ fd: CInt) throws(Failure) -> Bool {
        guard let address = try listeningStreamAddress(fd) else { return false }
        return CInt(address.ss_family) == AF_INET || CInt(address.ss_family) == AF_INET6
    }

    /// A listening AF_UNIX stream socket, bound to `path` when one is given.
    static func isUnix(_ fd: CInt, boundTo path: String?) throws(Failure) -> Bool {
        guard let address = try listeningStreamAddress(fd), CInt(address.ss_family) == AF_UNIX else { return false }
        guard let path else { return true }
        let unix = withUnsafeBytes(of: address) { $0.load(as: sockaddr_un.self) }
        let boundPath = withUnsafeBytes(of: unix.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return boundPath == path
    }

    /// The address a listening stream socket is bound to; nil when `fd` is not one.
    private static func listeningStreamAddress(_ fd: CInt) throws(Failure) -> sockaddr_storage? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Failure(errno: errno) }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return nil }
        let type = try socketOption(fd, SO_TYPE)
        let listening = try socketOption(fd, SO_ACCEPTCONN)
        guard type == CInt(SOCK_STREAM.rawValue), listening == 1 else { return nil }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Failure(errno: errno) }
        return address
    }

    private static func socketOption(_ fd: CInt, _ option: CInt) throws(Failure) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { throw Failure(errno: errno) }
        return value
    }
}
