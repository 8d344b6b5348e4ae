import Foundation
import Synchronization
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// A socket address for an AF_UNIX path.
func unixAddress(_ path: String) throws -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long: \(path)")
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return address
}

/// Creates an AF_UNIX socket of `type` bound to `path`, listening when `listening`.
func boundUnixSocket(path: String, type: Int32, listening: Bool) throws -> CInt {
    let fd = socket(AF_UNIX, type, 0)
    try #require(fd >= 0, "socket: errno \(errno)")
    var address = try unixAddress(path)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    try #require(bound == 0, "bind \(path): errno \(errno)")
    if listening {
        try #require(listen(fd, 4) == 0, "listen: errno \(errno)")
    }
    return fd
}

/// Every datagram already queued on `fd`, without waiting: sd_notify has sent synchronously by the
/// time it returns, so there is nothing to wait for.
func queuedDatagrams(on fd: CInt) -> [String] {
    var datagrams: [String] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard received > 0 else { return datagrams }
        datagrams.append(String(decoding: buffer[0..<received], as: UTF8.self))
    }
}

/// A notifier that records what it was asked to send, or fails every send.
final class RecordingNotifier: SystemdNotifier {
    private let recorded = Mutex<[SystemdNotification]>([])
    private let failure: SystemdError?

    init(failingWith failure: SystemdError? = nil) {
        self.failure = failure
    }

    var sent: [SystemdNotification] { recorded.withLock { $0 } }

    func send(_ notification: SystemdNotification) throws(SystemdError) {
        recorded.withLock { $0.append(notification) }
        if let failure {
            throw failure
        }
    }
}

/// Captures plain log lines instead of writing them to stderr.
final class RecordingOutput: LogLineOutput {
    private let recorded = Mutex<[String]>([])

    var lines: [String] { recorded.withLock { $0 } }

    func write(line: String) {
        recorded.withLock { $0.append(line) }
    }
}
