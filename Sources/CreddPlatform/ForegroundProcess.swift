import CGlibcGNU
import Glibc

/// Runs a program and waits for it, for the CLI's hand-offs to desktop tools (`xdg-open`):
/// looked up in `PATH` as `execvp` does, stdin from /dev/null, this process's stdout and stderr
/// (the tool's own complaints reach the user), no other descriptor, and a clean signal state.
public enum ForegroundProcess {
    /// The exit status (128 + the signal number when a signal ended it), or the `errno` that
    /// kept the program from starting.
    public static func run(_ arguments: [String]) -> Result<Int32, Errno> {
        spawn(arguments, stdout: nil).flatMap(wait)
    }

    /// Like ``run(_:)``, with the program's stdout captured instead of shown: for a dialog that
    /// answers on stdout (`zenity --entry`), so that the answer never passes through arguments.
    public static func output(_ arguments: [String]) -> Result<(status: Int32, stdout: [UInt8]), Errno> {
        var pipe: [CInt] = [-1, -1]
        guard pipe2(&pipe, O_CLOEXEC) == 0 else { return .failure(Errno(errno)) }
        defer { close(pipe[0]) }
        let spawned = spawn(arguments, stdout: pipe[1])
        // Only the child holds the write end now: the read below ends when the program does.
        close(pipe[1])
        return spawned.flatMap { pid in
            let read = readToEnd(pipe[0])
            return wait(pid).flatMap { status in
                guard case .success(let stdout) = read else { return .failure(Errno(EIO)) }
                return .success((status, stdout))
            }
        }
    }

    /// Starts `arguments` with stdin from /dev/null, stdout to `stdout` (or this process's).
    private static func spawn(_ arguments: [String], stdout: CInt?) -> Result<pid_t, Errno> {
        guard let program = arguments.first else { return .failure(Errno(EINVAL)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = withCleanSpawnAttributes(ownProcessGroup: false) { attributes in
            posix_spawnp(&pid, program, &actions, &attributes, argv + [nil], environ)
        }
        return result == 0 ? .success(pid) : .failure(Errno(result))
    }

    private static func wait(_ pid: pid_t) -> Result<Int32, Errno> {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .failure(Errno(errno)) }
        }
        return .success(exitStatus(waitStatus: status))
    }

    /// An `errno` value; `description` is `strerror`'s text.
    public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
        public let code: Int32
        public init(_ code: Int32) { self.code = code }
        public var description: String { String(cString: strerror(code)) }
    }
}
