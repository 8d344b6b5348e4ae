import CreddCore
import CreddPlatform
import Foundation

/// A child process started with `posix_spawnp` and reaped with `waitpid` on its own pid.
///
/// Tests use this instead of Foundation's `Process`, whose exit tracking can miss a child when
/// many test suites spawn at once (seen here: `isRunning` stuck true, `waitUntilExit` hanging),
/// and whose children inherit the spawning thread's blocked SIGTERM. Children here start with
/// an empty signal mask and default dispositions, as under systemd.
public final class SpawnedProcess: @unchecked Sendable {
    // `exitStatus` is written only by the owning test, through `wait`.
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `arguments` (searched on PATH) with `environment`; stdin, stdout and stderr are
    /// the given descriptors, or /dev/null.
    public init(_ arguments: [String], environment: [String: String], stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let stdout {
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if let stderr {
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = withCleanSpawnAttributes(ownProcessGroup: false) { attributes in
            posix_spawnp(&child, arguments[0], &actions, &attributes, argv, envp)
        }
        guard result == 0 else { throw TestSupportError("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        self.pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = try? wait(timeout: 5)
        }
    }

    /// Whether the child is still running (reaps it if it has exited).
    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { exitStatus = status }
        return reaped == 0
    }

    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Waits (polling, bounded) for the child to exit; returns its exit code, or 128 + the
    /// signal that ended it.
    @discardableResult
    public func wait(timeout: TimeInterval) throws -> Int32 {
        try eventually("pid \(pid) to exit", timeout: .seconds(timeout), interval: .milliseconds(5)) { !isRunning }
        let status = exitStatus ?? 0
        let signalled = status & 0x7F
        return signalled == 0 ? (status >> 8) & 0xFF : 128 + signalled
    }
}
