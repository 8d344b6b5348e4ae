import Foundation

/// A real `moto_server` (STS/IAM emulator) on a free loopback port, for the life of a test.
public final class MotoServer: Sendable {
    public let port: Int
    private let process: SpawnedProcess

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Whether `moto_server` is installed (scripts/install-deps installs it).
    public static var isAvailable: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/moto_server")
        }
    }

    /// Starts the server and waits (bounded) until it answers.
    /// `environment` adds variables such as `INITIAL_NO_AUTH_ACTION_COUNT` (signature checking).
    public init(environment: [String: String] = [:]) throws {
        let port = try FreePort.find()
        let process = try SpawnedProcess(
            ["moto_server", "-H", "127.0.0.1", "-p", String(port)],
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        self.port = port
        self.process = process
        for _ in 0..<300 {
            if FreePort.isListening(port) { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        stop()
        throw TestSupportError("moto_server did not start on port \(port)")
    }

    /// Kills the emulator; it holds nothing worth a graceful exit.
    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        _ = try? process.wait(timeout: 10)
    }

    deinit { stop() }
}

/// Loopback port helpers.
public enum FreePort {
    /// A port that was free a moment ago: bind port 0, read it, close.
    public static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
