import Foundation
import Synchronization

/// Runs a program without a shell, with a timeout and bounded output capture.
///
/// Used for `credential_process` and `mfa_process`. The child gets its own process group
/// (Foundation's `Process` makes it a group leader), so a timeout or a cancelled task kills
/// the whole group, grandchildren included.
public enum ProcessRunner {
    public struct Configuration: Sendable {
        public var timeout: Duration
        /// Bytes kept per stream; the rest is read and discarded so the child never blocks.
        public var maxOutputBytes: Int
        /// The child's environment; `nil` inherits the daemon's.
        public var environment: [String: String]?

        public init(timeout: Duration, maxOutputBytes: Int = 64 * 1024, environment: [String: String]? = nil) {
            self.timeout = timeout
            self.maxOutputBytes = maxOutputBytes
            self.environment = environment
        }
    }

    /// What a finished child produced.
    public struct Output: Sendable {
        /// The exit status, or 128 + signal number when a signal ended the child.
        public let exitStatus: Int32
        public let stdout: [UInt8]
        public let stderr: [UInt8]
        /// True when stdout held more than `maxOutputBytes`.
        public let stdoutTruncated: Bool
    }

    public enum Failure: Error, Sendable, Hashable {
        /// The program could not be started (not found, not executable).
        case launchFailed(program: String, reason: String)
        /// The timeout passed; the process group was killed.
        case timedOut(program: String, stderr: [UInt8])
        /// The calling task was cancelled; the process group was killed.
        case cancelled(program: String)
    }

    /// Runs `arguments[0]` (looked up in `PATH` when it has no `/`) with the rest as arguments.
    public static func run(_ arguments: [String], configuration: Configuration) async throws(Failure) -> Output {
        guard let program = arguments.first, !program.isEmpty else {
            throw .launchFailed(program: "", reason: "the command line is empty")
        }
        let environment = configuration.environment ?? ProcessInfo.processInfo.environment
        guard let executable = resolveExecutable(program, path: environment["PATH"]) else {
            throw .launchFailed(program: program, reason: "no executable of that name in PATH")
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        let (exits, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { finished in
            let status = finished.terminationReason == .uncaughtSignal ? 128 + finished.terminationStatus : finished.terminationStatus
            exitContinuation.yield(status)
            exitContinuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw .launchFailed(program: program, reason: error.localizedDescription)
        }
        // The parent's copies of the write ends must close, or reads never see end-of-file.
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()

        let processGroup = process.processIdentifier
        let stdoutHandle = stdoutPipe.fileHandleForReading
        let stderrHandle = stderrPipe.fileHandleForReading
        let limit = configuration.maxOutputBytes
        // Blocking reads, off the cooperative pool's shared threads' critical path.
        let stdoutTask = Task.detached { drain(stdoutHandle, limit: limit) }
        let stderrTask = Task.detached { drain(stderrHandle, limit: limit) }
        let outcome = Mutex<Failure?>(nil)
        let watchdog = Task {
            do {
                try await Task.sleep(for: configuration.timeout)
            } catch {
                return
            }
            outcome.withLock { $0 = $0 ?? .timedOut(program: program, stderr: []) }
            killGroup(processGroup)
        }
        let status = await withTaskCancellationHandler {
            var status: Int32 = -1
            for await exitStatus in exits { status = exitStatus }
            return status
        } onCancel: {
            outcome.withLock { $0 = $0 ?? .cancelled(program: program) }
            killGroup(processGroup)
        }
        watchdog.cancel()
        let stdout = await stdoutTask.value
        let stderr = await stderrTask.value

        switch outcome.withLock({ $0 }) {
        case .timedOut:
            throw .timedOut(program: program, stderr: stderr.bytes)
        case .some(let failure):
            throw failure
        case .none:
            return Output(exitStatus: status, stdout: stdout.bytes, stderr: stderr.bytes, stdoutTruncated: stdout.truncated)
        }
    }

    static func resolveExecutable(_ program: String, path: String?) -> URL? {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    private static func killGroup(_ leader: Int32) {
        guard leader > 0 else { return }
        kill(-leader, SIGKILL)
        kill(leader, SIGKILL)
    }

    /// Reads to end-of-file on a blocking descriptor, keeping the first `limit` bytes.
    private static func drain(_ handle: FileHandle, limit: Int) -> (bytes: [UInt8], truncated: Bool) {
        var kept: [UInt8] = []
        var truncated = false
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            let room = limit - kept.count
            if chunk.count > room { truncated = true }
            if room > 0 { kept.append(contentsOf: chunk.prefix(room)) }
        }
        try? handle.close()
        return (kept, truncated)
    }
}
