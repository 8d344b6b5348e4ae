import Foundation

/// A bound `AF_UNIX` datagram socket standing in for systemd's notification socket. A thread
/// drains it continuously, as systemd does: the kernel queues only ten datagrams, and a daemon
/// whose notifications nobody reads blocks in sd_notify.
public final class DatagramListener: @unchecked Sendable {
    // `messages` and `open` are guarded by `lock`; `consumed` is used by the test thread only.
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var messages: [String] = []
    private var open = true
    private var consumed = 0

    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw TestSupportError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread { [self] in drain() }
    }

    deinit {
        lock.lock()
        open = false
        lock.unlock()
        close(fd)
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock()
            let running = open
            lock.unlock()
            guard running else { return }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            lock.lock()
            messages.append(message)
            lock.unlock()
        }
    }

    /// Every notification so far.
    public var received: [String] { snapshot() }

    private func snapshot() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }

    /// Waits (bounded) for the next notification, after the last one matched, that satisfies
    /// `match`; notifications in between are skipped.
    public func waitFor(timeout: TimeInterval = 30, _ match: (String) -> Bool) throws {
        try eventually("a matching notification; got: \(snapshot()[consumed...])", timeout: .seconds(timeout), interval: .milliseconds(20)) {
            guard let index = snapshot()[consumed...].firstIndex(where: match) else { return false }
            consumed = index + 1
            return true
        }
    }

    /// Counts new notifications matching `match` that arrive within `seconds`.
    public func collect(for seconds: TimeInterval, _ match: (String) -> Bool) -> Int {
        let start = snapshot().count
        usleep(UInt32(seconds * 1_000_000))
        let all = snapshot()
        consumed = all.count
        return all[start...].filter(match).count
    }
}
