#if canImport(Glibc)
    import Glibc
#endif

/// What sd_is_socket_inet(3) and sd_is_socket_unix(3) tell about a passed descriptor, in enough
/// detail to say what is wrong with it: not a socket, not a stream socket, no longer listening
/// (someone called shutdown(2) on it), or listening with some address family and address.
enum ListeningSocketCheck {
    /// The descriptor could not be inspected.
    struct Failure: Error {
        let errno: CInt
    }

    enum Verdict: Equatable {
        case notASocket
        case notAStreamSocket
        case notListening
        /// A listening stream socket; `unixPath` is the path an AF_UNIX socket is bound to.
        case listening(family: CInt, unixPath: String?)
    }

    static func inspect(_ fd: CInt) throws(Failure) -> Verdict {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Failure(errno: errno) }
        guard status.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        guard try socketOption(fd, SO_TYPE) == CInt(SOCK_STREAM.rawValue) else { return .notAStreamSocket }
        guard try socketOption(fd, SO_ACCEPTCONN) == 1 else { return .notListening }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Failure(errno: errno) }
        let family = CInt(address.ss_family)
        guard family == AF_UNIX else { return .listening(family: family, unixPath: nil) }
        let unix = withUnsafeBytes(of: address) { $0.load(as: sockaddr_un.self) }
        let path = withUnsafeBytes(of: unix.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return .listening(family: family, unixPath: path)
    }

    private static func socketOption(_ fd: CInt, _ option: CInt) throws(Failure) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { throw Failure(errno: errno) }
        return value
    }
}
