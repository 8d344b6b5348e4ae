#if canImport(Glibc)
import Glibc
#endif

/// Sends datagrams to the service manager's AF_UNIX sockets (`NOTIFY_SOCKET`, journald's native
/// socket), as libsystemd would, without linking it (and the libraries it pulls in).
enum UnixDatagram {
    /// Sends `bytes` as one datagram to `address`: a filesystem path, or `@name` for the abstract
    /// namespace (what systemd puts in `NOTIFY_SOCKET` for some services).
    /// - Returns: 0, or the errno of the failure.
    static func send(_ bytes: [UInt8], to address: String) -> CInt {
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        let isAbstract = path.first == UInt8(ascii: "@")
        if isAbstract {
            path[0] = 0
        }
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        guard path.count > (isAbstract ? 1 : 0) else { return EINVAL }
        // A path needs its terminating NUL; an abstract name is exactly as long as it is.
        guard path.count <= (isAbstract ? capacity : capacity - 1) else { return ENAMETOOLONG }
        // systemd may also name a vsock address (`vsock:CID:PORT`), which a user service never gets.
        guard isAbstract || path.first == UInt8(ascii: "/") else { return EAFNOSUPPORT }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (isAbstract ? 0 : 1))

        let fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let sent = bytes.withUnsafeBytes { body in
            withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, body.baseAddress, body.count, CInt(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent < 0 ? errno : 0
    }
}
