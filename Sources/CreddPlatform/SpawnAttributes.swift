import Glibc

/// Runs `body` with spawn attributes that give the child an empty signal mask and default
/// signal dispositions: threads started by Swift's runtime block nearly every signal and NIO
/// ignores SIGPIPE, and a child must inherit neither (a shell with SIGCHLD blocked hangs in
/// `wait`). With `ownProcessGroup` the child also leads a new process group.
public func withCleanSpawnAttributes<T, E: Error>(
    ownProcessGroup: Bool, _ body: (inout posix_spawnattr_t) throws(E) -> T
) throws(E) -> T {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if ownProcessGroup {
        posix_spawnattr_setpgroup(&attributes, 0)
        flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))
    return try body(&attributes)
}

/// `posix_spawn` of `executable` with `arguments` (whose first element is replaced by the path),
/// `environment` and `actions`, under ``withCleanSpawnAttributes(ownProcessGroup:_:)``.
/// Returns the child's pid, or posix_spawn's error number (0 on success).
public func spawnCleanly(
    _ executable: String, arguments: [String], environment: [String: String], actions: inout posix_spawn_file_actions_t, ownProcessGroup: Bool
) -> (pid: pid_t, error: Int32) {
    let argv = ([executable] + arguments.dropFirst()).map { strdup($0) }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") }
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let result = withCleanSpawnAttributes(ownProcessGroup: ownProcessGroup) { attributes in
        posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], envp + [nil])
    }
    return (pid, result)
}
