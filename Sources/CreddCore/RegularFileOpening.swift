import Glibc

/// Why a file credd wanted to open as a regular file was refused.
public enum RegularFileOpenFailure: Error, Sendable, Hashable {
    /// `open(2)` failed with `errno`.
    case system(errno: Int32)
    /// Something other than a regular file is there; `kind` names it ("a FIFO", "a directory").
    case notRegularFile(kind: String)

    /// The reason in words, to follow the path: "is a FIFO, not a regular file".
    public var reason: String {
        switch self {
        case let .system(code): return String(cString: strerror(code))
        case let .notRegularFile(kind): return "is \(kind), not a regular file"
        }
    }
}

/// Opens `path` only if it is a regular file, without ever blocking: the open itself uses
/// `O_NONBLOCK` (a FIFO with no writer would otherwise hang the caller forever; a device could
/// do anything), and the mode is checked on the descriptor before a byte is read. The returned
/// descriptor is back in blocking mode and close-on-exec; the caller closes it.
public func openRegularFile(_ path: String, flags: Int32 = O_RDONLY, mode: mode_t = 0) -> Result<Int32, RegularFileOpenFailure> {
    let descriptor = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode)
    if descriptor < 0 { return .failure(.system(errno: errno)) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        let code = errno
        close(descriptor)
        return .failure(.system(errno: code))
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
        close(descriptor)
        return .failure(.notRegularFile(kind: fileKind(status.st_mode)))
    }
    let statusFlags = fcntl(descriptor, F_GETFL)
    if statusFlags < 0 || fcntl(descriptor, F_SETFL, statusFlags & ~O_NONBLOCK) < 0 {
        let code = errno
        close(descriptor)
        return .failure(.system(errno: code))
    }
    return .success(descriptor)
}

/// `st_mode`'s file type with its article, for messages.
public func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: return "a regular file"
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFLNK: return "a symlink"
    default: return "an unknown kind of file"
    }
}
