import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon keeps its per-user runtime files: the control socket and the container
/// API token, in a directory only the user can enter.
public struct RuntimePaths: Sendable, Hashable {
    public let directory: String

    public var controlSocket: String { directory + "/control.sock" }
    public var tokenFile: String { directory + "/token" }

    public init(directory: String) {
        self.directory = directory
    }

    /// `$XDG_RUNTIME_DIR/credd`; without it (a bare root shell, CI), `/tmp/credd-UID`, which
    /// `prepare()` refuses to use unless this user owns it.
    public init(environment: [String: String]) {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            self.init(directory: runtime + "/credd")
        } else {
            self.init(directory: "/tmp/credd-\(getuid())")
        }
    }

    /// Creates the directory with mode 0700 (or checks an existing one is ours and private).
    public func prepare() throws(DaemonError) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
            throw DaemonError.runtimeDirectory(directory, "not a directory owned by uid \(getuid())")
        }
        if info.st_mode & 0o077 != 0, chmod(directory, 0o700) != 0 {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)))
        }
    }
}
