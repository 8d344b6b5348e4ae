import CreddCore

#if canImport(Glibc)
import CreddPlatform
import Glibc
#endif

/// Sends datagrams to the service manager's AF_UNIX sockets (`NOTIFY_SOCKET`, journald's native
/// socket), as libsystemd would, without linking it (and the libraries it pulls in).
enum UnixDatagram {
    /// Sends `bytes` as one datagram to `address`: a filesystem path, or `@name` for the abstract
    /// namespace (what systemd puts in `NOTIFY_SOCKET` for some services).
    /// - Returns: 0, or the errno of the failure.
    static func send(_ bytes: [UInt8], to address: String) -> CInt {
        let socketAddress: UnixSocketAddress?
        if address.hasPrefix("@") {
            socketAddress = UnixSocketAddress(abstractName: String(address.dropFirst()))
        } else if address.hasPrefix("/") {
            socketAddress = UnixSocketAddress(path: address)
        } else {
            // systemd may also name a vsock address (`vsock:CID:PORT`), which a user service never gets.
            return EAFNOSUPPORT
        }
        guard let socketAddress else { return address == "@" ? EINVAL : ENAMETOOLONG }

        let fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let sent = bytes.withUnsafeBytes { body in
            socketAddress.withSockaddr { sendto(fd, body.baseAddress, body.count, CInt(MSG_NOSIGNAL), $0, $1) }
        }
        return sent < 0 ? errno : 0
    }
}
