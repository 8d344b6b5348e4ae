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

    private static let refused = DaemonError.protocolError(
        "the daemon closed the connection without answering (it serves only its own user)")

    public func send(_ request: ControlRequest) throws(DaemonError) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError.controlSocket(path, String(cString: strerror(errno))) }
        defer { close(fd) }

        guard let address = UnixSocketAddress(path: path) else {
            throw DaemonError.controlSocket(path, "path too long for a unix socket")
        }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else { throw DaemonError.noDaemon(path) }

        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var payload: Data
        do {
            payload = try JSONEncoder().encode(request)
        } catch {
            throw DaemonError.protocolError("could not encode the request")
        }
        payload.append(UInt8(ascii: "\n"))
        // MSG_NOSIGNAL: a daemon that hangs up (another uid's call) must be an error, not SIGPIPE.
        let written = payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == payload.count else {
            if errno == EPIPE || errno == ECONNRESET { throw Self.refused }
            throw DaemonError.controlSocket(path, String(cString: strerror(errno)))
        }

        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                if buffer[0..<count].contains(UInt8(ascii: "\n")) { break }
            } else if count == 0 {
                break
            } else if errno == EINTR {
                continue
            } else if errno == ECONNRESET {
                throw Self.refused
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw DaemonError.controlSocket(path, "no answer within \(timeoutSeconds) s")
            } else {
                throw DaemonError.controlSocket(path, String(cString: strerror(errno)))
            }
        }
        guard !received.isEmpty else { throw Self.refused }
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: received)
        } catch {
            throw DaemonError.protocolError("malformed response")
        }
    }
}
