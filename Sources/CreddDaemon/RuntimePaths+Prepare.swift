import CreddControl

#if canImport(Glibc)
    import Glibc
#endif

extension RuntimePaths {
    /// Creates the directory with mode 0700, or checks that an existing one is ours and private.
    /// Inside XDG_RUNTIME_DIR (private to the user) a too open mode is tightened; the shared
    /// fallback must already be a 0700 directory of ours, since others could have reached into it.
    public func prepare() throws(DaemonError) {
        let created = mkdir(directory, 0o700) == 0
        if !created, errno != EEXIST {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)) + fallbackAdvice)
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)) + fallbackAdvice)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
            let problem = (info.st_mode & S_IFMT) == S_IFDIR ? "is owned by uid \(info.st_uid), not by uid \(getuid())" : "is not a directory"
            throw DaemonError.runtimeDirectory(directory, problem + fallbackAdvice)
        }
        let mode = info.st_mode & 0o777
        guard mode != 0o700 else { return }
        if isSharedFallback && !created {
            throw DaemonError.runtimeDirectory(
                directory, "has mode \(String(mode, radix: 8)), not 700, so other users may have put files in it" + fallbackAdvice)
        }
        guard chmod(directory, 0o700) == 0 else {
            throw DaemonError.runtimeDirectory(directory, String(cString: strerror(errno)))
        }
    }

    private var fallbackAdvice: String {
        guard isSharedFallback else { return "" }
        return "; credd falls back to it because XDG_RUNTIME_DIR is not set, and will not use it: "
            + "set XDG_RUNTIME_DIR to a directory only you can enter (a login session sets /run/user/\(getuid())), "
            + "or remove \(directory) if it is yours"
    }
}
