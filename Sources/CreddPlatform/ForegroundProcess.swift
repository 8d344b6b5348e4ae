import CGlibcGNU
import Glibc

/// Runs a program and waits for it, for the CLI's hand-offs to desktop tools (`xdg-open`):
/// looked up in `PATH` as `execvp` does, stdin from /dev/null, this process's stdout and stderr
/// (the tool's own complaints reach the user), no other descriptor, and a clean signal state.
public enum ForegroundProcess {
    /// The exit status (128 + the signal number when a signal ended it), or the `errno` that
    /// kept the program from starting.
    public static func run(_ arguments: [String]) -> Result<Int32, Errno> {
        guard let program = arguments.first else { return .failure(Errno(EINVAL)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = withCleanSpawnAttributes(ownProcessGroup: false) { attributes in
            posix_spawnp(&pid, program, &actions, &attributes, argv + [nil], environ)
        }
        guard result == 0 else { return .failure(Errno(result)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .failure(Errno(errno)) }
        }
        return .success(exitStatus(waitStatus: status))
    }

    /// Like ``run(_:)``, with the program's stdout captured instead of shown: for a dialog that
    /// answers on stdout (`zenity --entry`), so that the answer never passes through arguments.
    public static func output(_ arguments: [String]) -> Result<(status: Int32, stdout: [UInt8]), Errno> {
        guard let program = arguments.first else { return .failure(Errno(EINVAL)) }
        var pipe: [CInt] = [-1, -1]
        guard pipe2(&pipe, O_CLOEXEC) == 0 else { return .failure(Errno(errno)) }
        defer { close(pipe[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let argv = arguments.map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = withCleanSpawnAttributes(ownProcessGroup: false) { attributes in
            posix_spawnp(&pid, program, &actions, &attributes, argv + [nil], environ)
        }
        close(pipe[1])
        guard result == 0 else { return .failure(Errno(result)) }
        let read = readToEnd(pipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return .failure(Errno(errno)) }
        }
        guard case .success(let stdout) = read else { return .failure(Errno(EIO)) }
        return .success((exitStatus(waitStatus: status), stdout))
    }

    /// An `errno` value; `description` is `strerror`'s text.
    public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
        public let code: Int32
        public init(_ code: Int32) { self.code = code }
        public var description: String { String(cString: strerror(code)) }
    }
}
