import CreddCore
import CreddPlatform
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// The CLI side of the control socket: a blocking round trip, because each CLI command makes
/// exactly one call and then exits.
public struct ControlClient: Sendable {
    public let path: String
    /// How long to wait for an answer; `login` waits for an STS call, so this is generous.
    public var timeoutSeconds: Int

    public init(path: String, timeoutSeconds: Int = 120) {
        self.path = path
        self.timeoutSeconds = timeoutSeconds
    }

    private static let refused = ControlError.protocolError(
        "the daemon closed the connection without answering (it serves only its own user)")

    public func send(_ request: ControlRequest) throws(ControlError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlError.socket(path, String(cString: strerror(errno))) }
        defer { close(fd) }

        guard let address = UnixSocketAddress(path: path) else {
            throw ControlError.socket(path, "path too long for a unix socket")
        }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else { throw ControlError.noDaemon(path) }

        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let payload = try ControlFraming.line(request)
        // MSG_NOSIGNAL: a daemon that hangs up (another uid's call) must be an error, not SIGPIPE.
        let written = payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == payload.count else {
            if errno == EPIPE || errno == ECONNRESET { throw Self.refused }
            throw ControlError.socket(path, String(cString: strerror(errno)))
        }

        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                if buffer[0..<count].contains(ControlFraming.terminator) { break }
            } else if count == 0 {
                break
            } else if errno == EINTR {
                continue
            } else if errno == ECONNRESET {
                throw Self.refused
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw ControlError.socket(path, "no answer within \(timeoutSeconds) s")
            } else {
                throw ControlError.socket(path, String(cString: strerror(errno)))
            }
        }
        guard !received.isEmpty else { throw Self.refused }
        return try ControlFraming.decode(ControlResponse.self, from: received)
    }
}
