import CGlibcGNU
import CreddCore
import CreddPlatform
import FoundationEssentials
import Glibc
import Synchronization

/// Runs a program without a shell, with a timeout and bounded output capture.
///
/// Used for `credential_process` and `mfa_process`. The child gets its own process group
/// (`POSIX_SPAWN_SETPGROUP`), so a timeout or a cancelled task kills
/// the whole group, grandchildren included.
public enum ProcessRunner {
    public struct Configuration: Sendable {
        public var timeout: Duration
        /// Bytes kept per stream; the rest is read and discarded so the child never blocks.
        public var maxOutputBytes: Int
        /// The child's environment; `nil` inherits the daemon's (``InheritedEnvironment``).
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
        let environment = configuration.environment ?? InheritedEnvironment.current()
        let executable: String
        switch ExecutableSearch.locate(program, path: environment["PATH"]) {
        case let .success(found): executable = found
        case .failure(.notOnPath): throw .launchFailed(program: program, reason: "no executable of that name in PATH")
        // A path is handed to posix_spawn as it is, which names the exact problem.
        case .failure(.missing), .failure(.notExecutable): executable = program
        }

        let spawned = try spawn(executable, arguments: arguments, environment: environment)

        let processGroup = spawned.processGroup
        let limit = configuration.maxOutputBytes
        let outcome = Mutex<Failure?>(nil)
        let watchdog = Task {
            do {
                try await EventLoopClock().sleep(for: configuration.timeout)
            } catch {
                return
            }
            outcome.withLock { $0 = $0 ?? .timedOut(program: program, stderr: []) }
            killGroup(processGroup)
        }
        // The deadline covers the pipes too: a background grandchild holding stdout open is
        // killed with its group instead of stalling the read forever.
        let (status, stdoutCapture, stderrCapture) = await withTaskCancellationHandler {
            await onDedicatedThread { spawned.collect(limit: limit) }
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

    /// A started child and the read ends of its stdout and stderr pipes.
    private struct Spawned: Sendable {
        let processGroup: pid_t
        let stdout: Int32
        let stderr: Int32

        /// Reads both pipes to end-of-file, then reaps the child. Blocking: run it off the pool.
        func collect(limit: Int) -> (Int32, (bytes: [UInt8], truncated: Bool), (bytes: [UInt8], truncated: Bool)) {
            var captures = [(bytes: [UInt8](), truncated: false), (bytes: [UInt8](), truncated: false)]
            var open = [stdout, stderr]
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            // One thread serves both pipes, so a child filling stderr never blocks while we wait on stdout.
            while open.contains(where: { $0 >= 0 }) {
                var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                if poll(&polled, nfds_t(polled.count), -1) < 0 {
                    if errno == EINTR { continue }
                    break
                }
                for index in open.indices where open[index] >= 0 && polled[index].revents != 0 {
                    let count = buffer.withUnsafeMutableBytes { read(open[index], $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        close(open[index])
                        open[index] = -1
                        continue
                    }
                    let room = limit - captures[index].bytes.count
                    if count > room { captures[index].truncated = true }
                    if room > 0 { captures[index].bytes.append(contentsOf: buffer.prefix(min(count, room))) }
                }
            }
            for descriptor in open where descriptor >= 0 { close(descriptor) }
            return (reap(), captures[0], captures[1])
        }

        /// The exit status, or 128 + signal number when a signal ended the child.
        private func reap() -> Int32 {
            var status: Int32 = 0
            while waitpid(processGroup, &status, 0) < 0 {
                guard errno == EINTR else { return -1 }
            }
            return exitStatus(waitStatus: status)
        }
    }

    /// Starts the child in a process group of its own, stdin from /dev/null, stdout and stderr
    /// into pipes, with default signal dispositions and an empty signal mask.
    private static func spawn(
        _ executable: String, arguments: [String], environment: [String: String]
    ) throws(Failure) -> Spawned {
        func failure(_ errorNumber: Int32) -> Failure {
            .launchFailed(program: arguments[0], reason: String(cString: strerror(errorNumber)))
        }
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        // O_CLOEXEC: a child spawned concurrently by another task must not hold these open.
        guard pipe2(&stdoutPipe, O_CLOEXEC) == 0 else { throw failure(errno) }
        guard pipe2(&stderrPipe, O_CLOEXEC) == 0 else {
            let error = errno
            stdoutPipe.forEach { close($0) }
            throw failure(error)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        // Only the three above: the endpoint's and control socket's connections, inotify and
        // timer descriptors stay with credd even where NIO left them inheritable.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        let (pid, result) = spawnCleanly(executable, arguments: arguments, environment: environment, actions: &actions, ownProcessGroup: true)
        // The parent's copies of the write ends must close, or reads never see end-of-file.
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw failure(result)
        }
        return Spawned(processGroup: pid, stdout: stdoutPipe[0], stderr: stderrPipe[0])
    }

    /// Runs blocking work (pipe reads, `waitpid`) on a thread of its own so it never occupies
    /// one of the few threads of Swift's cooperative pool.
    private static func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let work: @Sendable () -> Void = { continuation.resume(returning: body()) }
            // No thread to be had: do the work here rather than never resuming.
            if !detachThread(work) { work() }
        }
    }

    /// Kills the child's process group (the child leads it, so the group id is its pid).
    private static func killGroup(_ leader: Int32) {
        guard leader > 0 else { return }
        kill(-leader, SIGKILL)
    }
}
