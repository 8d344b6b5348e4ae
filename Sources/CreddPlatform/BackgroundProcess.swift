import CGlibcGNU
import Glibc

/// A program started to run on its own, such as the browser `credd login` opens: its own
/// process group (Ctrl-C on credd does not close the user's browser), stdin and stdout on
/// `/dev/null`, stderr shared so its complaints reach the user. credd never waits for it to
/// finish, only looks whether it already failed.
public struct BackgroundProcess: Sendable {
    public let pid: pid_t

    /// Why a program could not be started.
    public struct LaunchFailure: Error, Sendable, Hashable, CustomStringConvertible {
        public let program: String
        public let reason: String

        public var description: String { "cannot run \(program): \(reason)" }
    }

    /// Starts `arguments[0]` (looked up in `PATH` when it has no `/`) with the rest as arguments.
    public static func start(_ arguments: [String], environment: [String: String]) throws(LaunchFailure) -> BackgroundProcess {
        guard let program = arguments.first, !program.isEmpty else { throw LaunchFailure(program: "", reason: "the command line is empty") }
        let executable: String
        switch ExecutableSearch.locate(program, path: environment["PATH"]) {
        case let .success(found): executable = found
        case .failure(.notOnPath): throw LaunchFailure(program: program, reason: "no executable of that name in PATH")
        case .failure(.missing): throw LaunchFailure(program: program, reason: "no such file")
        case .failure(.notExecutable): throw LaunchFailure(program: program, reason: "not an executable file")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        let spawned = spawnCleanly(executable, arguments: arguments, environment: environment, actions: &actions, ownProcessGroup: true)
        guard spawned.error == 0 else { throw LaunchFailure(program: program, reason: String(cString: strerror(spawned.error))) }
        return BackgroundProcess(pid: spawned.pid)
    }

    /// The exit status (128 + signal number for a signal) if the process has ended, else `nil`.
    /// Reaps it, so call it until it returns a status or the process is of no more interest.
    public func exitStatusIfEnded() -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == 0 { return nil }
            if result < 0 {
                if errno == EINTR { continue }
                return nil
            }
            return exitStatus(waitStatus: status)
        }
    }
}

/// A `waitpid` status as a shell reports it: the exit status, or 128 + the signal number when a
/// signal ended the child (`WEXITSTATUS` and `WTERMSIG`, which Swift cannot import as macros).
public func exitStatus(waitStatus status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}
