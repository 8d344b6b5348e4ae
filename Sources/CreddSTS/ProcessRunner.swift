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

        let (exits, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        let launch = await onDedicatedThread { () -> Result<Launched, Failure> in
            let process = Process()
            process.executableURL = executable
            process.arguments = Array(arguments.dropFirst())
            process.environment = environment
            let stdoutPipe = Pipe()
            let stderrPipe = Pipe()
            process.standardOutput = stdoutPipe
            process.standardError = stderrPipe
            process.standardInput = FileHandle.nullDevice
            process.terminationHandler = { finished in
                let status = finished.terminationReason == .uncaughtSignal
                    ? 128 + finished.terminationStatus : finished.terminationStatus
                exitContinuation.yield(status)
                exitContinuation.finish()
            }
            unblockSignalsInheritedByChildren()
            do {
                try process.run()
            } catch {
                return .failure(.launchFailed(program: program, reason: error.localizedDescription))
            }
            // The parent's copies of the write ends must close, or reads never see end-of-file.
            try? stdoutPipe.fileHandleForWriting.close()
            try? stderrPipe.fileHandleForWriting.close()
            return .success(
                Launched(
                    processGroup: process.processIdentifier, stdout: stdoutPipe.fileHandleForReading,
                    stderr: stderrPipe.fileHandleForReading))
        }
        let launched: Launched
        switch launch {
        case .success(let value): launched = value
        case .failure(let failure): throw failure
        }

        let processGroup = launched.processGroup
        let limit = configuration.maxOutputBytes
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
        // The deadline covers the pipes too: a background grandchild holding stdout open is
        // killed with its group instead of stalling the read forever.
        let (status, stdoutCapture, stderrCapture) = await withTaskCancellationHandler {
            async let stdout = onDedicatedThread { drain(launched.stdout, limit: limit) }
            async let stderr = onDedicatedThread { drain(launched.stderr, limit: limit) }
            var status: Int32 = -1
            for await exitStatus in exits { status = exitStatus }
            return await (status, stdout, stderr)
        } onCancel: {
            outcome.withLock { $0 = $0 ?? .cancelled(program: program) }
            killGroup(processGroup)
        }
        watchdog.cancel()

        switch outcome.withLock({ $0 }) {
        case .timedOut:
            throw .timedOut(program: program, stderr: stderrCapture.bytes)
        case .some(let failure):
            throw failure
        case .none:
            return Output(
                exitStatus: status, stdout: stdoutCapture.bytes, stderr: stderrCapture.bytes,
                stdoutTruncated: stdoutCapture.truncated)
        }
    }

    private struct Launched: Sendable {
        let processGroup: Int32
        let stdout: FileHandle
        let stderr: FileHandle
    }

    /// Runs blocking work (spawning, pipe reads) on its own thread so it never occupies one of
    /// the few threads of Swift's cooperative pool.
    private static func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    /// A child inherits the spawning thread's signal mask, and threads started by Swift's
    /// runtime block nearly every signal; a shell child with SIGCHLD blocked hangs in `wait`.
    /// So the spawning thread (created only for this) unblocks everything except the signals a
    /// daemon reads synchronously (signalfd/dispatch sources rely on them staying blocked).
    private static func unblockSignalsInheritedByChildren() {
        var mask = sigset_t()
        sigfillset(&mask)
        for daemonSignal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigdelset(&mask, daemonSignal)
        }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }

    static func resolveExecutable(_ program: String, path: String?) -> URL? {
        if program.contains("/") { return URL(fileURLWithPath: program) }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Kills the child's process group (the child leads it, so the group id is its pid).
    private static func killGroup(_ leader: Int32) {
        guard leader > 0 else { return }
        kill(-leader, SIGKILL)
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
