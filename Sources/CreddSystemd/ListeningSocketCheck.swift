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
        guard try isListeningStream(fd) else { return false }
        var address = sockaddr_storage()
        try boundAddress(of: fd, into: &address)
        return CInt(address.ss_family) == AF_INET || CInt(address.ss_family) == AF_INET6
    }

    /// A listening AF_UNIX stream socket, bound to `path` when one is given.
    static func isUnix(_ fd: CInt, boundTo path: String?) throws(Failure) -> Bool {
        guard try isListeningStream(fd) else { return false }
        var address = sockaddr_storage()
        try boundAddress(of: fd, into: &address)
        guard CInt(address.ss_family) == AF_UNIX else { return false }
        guard let path else { return true }
        let boundPath = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { unix in
                withUnsafeBytes(of: unix.pointee.sun_path) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
            }
        }
        return boundPath == path
    }

    private static func isListeningStream(_ fd: CInt) throws(Failure) -> Bool {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Failure(errno: errno) }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return false }
        let type = try socketOption(fd, SO_TYPE)
        let listening = try socketOption(fd, SO_ACCEPTCONN)
        return type == CInt(SOCK_STREAM.rawValue) && listening == 1
    }

    private static func socketOption(_ fd: CInt, _ option: CInt) throws(Failure) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { throw Failure(errno: errno) }
        return value
    }

    private static func boundAddress(of fd: CInt, into address: inout sockaddr_storage) throws(Failure) {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Failure(errno: errno) }
    }
}
