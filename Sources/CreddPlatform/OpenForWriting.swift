import Glibc

/// Whether a process has the regular file at `path` open for writing right now: a program
/// rewriting it in place (an editor's save, `cat >`, a `>` redirection) that has truncated it
/// and not closed it yet. `nil` when that cannot be told (no such file, a file of another user,
/// leases disabled or unsupported by the file system).
///
/// Linux refuses a read lease (`F_SETLEASE`) exactly while the file is open for writing, so one
/// is taken and given back at once. Should a process open the file for writing in between, the
/// kernel signals the lease break with SIGURG, ignored by default, rather than SIGIO, which
/// would end the process.
public func isOpenForWriting(_ path: String) -> Bool? {
    guard case let .success(descriptor) = openRegularFile(path) else { return nil }
    defer { close(descriptor) }
    // F_SETSIG and F_SETLEASE, which Swift's Glibc module leaves out (they need _GNU_SOURCE).
    let setSignal: Int32 = 10
    let setLease: Int32 = 1024
    guard fcntl(descriptor, setSignal, SIGURG) == 0 else { return nil }
    if fcntl(descriptor, setLease, Int32(F_RDLCK)) == 0 {
        _ = fcntl(descriptor, setLease, Int32(F_UNLCK))
        return false
    }
    return errno == EAGAIN ? true : nil
}
