import Foundation

/// A program serving on a free 127.0.0.1 port for the life of a test (moto_server, a scripted
/// fake STS): started with `{PORT}` in its arguments replaced, waited for (bounded), killed at
/// the end.
public final class LoopbackServer: Sendable {
    public let port: Int
    private let process: SpawnedProcess

    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/") }

    /// Starts `arguments`; its output goes to `logFile` (or nowhere).
    public init(_ arguments: [String], environment: [String: String] = [:], logFile: String? = nil) throws {
        let port = try FreePort.find()
        let log = logFile.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
        defer { if let log { close(log) } }
        let process = try SpawnedProcess(
            arguments.map { $0.replacingOccurrences(of: "{PORT}", with: String(port)) },
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            stdout: log, stderr: log)
        self.port = port
        self.process = process
        // A server that exited will never listen: the wait ends at once.
        let listening = try? eventually("port \(port) to listen", timeout: .seconds(15), interval: .milliseconds(50)) {
            guard process.isRunning || FreePort.isListening(port) else { throw TestSupportError("the server exited") }
            return FreePort.isListening(port)
        }
        if listening != nil { return }
        stop()
        let output = logFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        throw TestSupportError("\(arguments.first ?? "server") did not start on port \(port): \(output.suffix(500))")
    }

    /// Kills the server; test servers hold nothing worth a graceful exit.
    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        _ = try? process.wait(timeout: 10)
    }

    deinit { stop() }
}
