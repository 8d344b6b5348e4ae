#if canImport(Glibc)
    import Glibc
#endif

/// A failure talking to systemd (notifications, socket activation, the journal, the watchdog
/// query) or installing credd's unit files. Its description says what failed, with the errno,
/// and what to do next; it never carries a secret.
public struct SystemdError: Error, Sendable, Hashable {
    enum Problem: Sendable, Hashable {
        case notifyFailed(state: String, errno: CInt)
        case notifySocketVanished(state: String)
        case watchdogQueryFailed(errno: CInt)
        case listenFdsFailed(errno: CInt)
        case journalSendFailed(errno: CInt)
        case unexpectedSocketName(fd: CInt, name: String)
        case duplicateSocketName(fd: CInt, name: String)
        case socketTypeCheckFailed(fd: CInt, name: String, errno: CInt)
        case notASocket(fd: CInt, name: String, unit: String)
        case notAStreamSocket(fd: CInt, name: String, unit: String)
        case notListening(fd: CInt, name: String, unit: String)
        case wrongFamily(fd: CInt, name: String, unit: String, found: String, expected: String)
        case unixPathMismatch(fd: CInt, name: String, unit: String, found: String, expected: String)
        case relativeBinaryPath(String)
        case unsupportedCharacterInBinaryPath(String)
        case missingHome
        case foreignUnitFile(path: String)
        case unitFileIO(path: String, action: String, reason: String)
    }

    let problem: Problem

    init(_ problem: Problem) {
        self.problem = problem
    }
}

extension SystemdError: CustomStringConvertible {
    public var description: String {
        switch problem {
        case .notifyFailed(let state, let errno):
            return "notifying systemd of \"\(state)\" failed: \(Self.describe(errno: errno)); "
                + "check that NOTIFY_SOCKET names a socket systemd is listening on"
        case .notifySocketVanished(let state):
            return "notifying systemd of \"\(state)\" sent nothing: NOTIFY_SOCKET is no longer set in the environment"
        case .watchdogQueryFailed(let errno):
            return "reading the watchdog settings failed: \(Self.describe(errno: errno)); "
                + "WATCHDOG_USEC/WATCHDOG_PID are malformed (set WatchdogSec= in credd.service, or unset them)"
        case .listenFdsFailed(let errno):
            return "reading the activated sockets failed: \(Self.describe(errno: errno)); "
                + "LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES are malformed"
        case .journalSendFailed(let errno):
            return "sending to the journal failed: \(Self.describe(errno: errno)); is journald running "
                + "(/run/systemd/journal/socket)?"
        case .unexpectedSocketName(let fd, let name):
            return "socket activation passed fd \(fd) named \"\(name)\"; credd expects "
                + "FileDescriptorName=endpoint or FileDescriptorName=control in credd.socket"
        case .duplicateSocketName(let fd, let name):
            return "socket activation passed a second socket named \"\(name)\" (fd \(fd)); "
                + "credd.socket must have one ListenStream= per FileDescriptorName="
        case .socketTypeCheckFailed(let fd, let name, let errno):
            return "cannot inspect activated socket \"\(name)\" (fd \(fd)): \(Self.describe(errno: errno))"
        case .notASocket(let fd, let name, let unit):
            return "activated socket \"\(name)\" (fd \(fd)) is not a socket at all: whatever started credd "
                + "set LISTEN_FDS for files that are not \(unit)'s; start credd through \(unit)"
        case .notAStreamSocket(let fd, let name, let unit):
            return "activated socket \"\(name)\" (fd \(fd)) is not a stream socket; \(unit) needs ListenStream=, "
                + "not ListenDatagram= or ListenSequentialPacket="
        case .notListening(let fd, let name, let unit):
            return "activated socket \"\(name)\" (fd \(fd)) is not listening: systemd passes listening sockets, so a "
                + "process that shared it has most likely called shutdown(2) on it (the journal then says \"Got POLLHUP on "
                + "a listening socket\"); run `systemctl --user restart \(unit)` to get a fresh one"
        case .wrongFamily(let fd, let name, let unit, let found, let expected):
            return "activated socket \"\(name)\" (fd \(fd)) is \(found), but credd expects \(expected) here; "
                + "fix ListenStream= in \(unit)"
        case .unixPathMismatch(let fd, let name, let unit, let found, let expected):
            return "activated socket \"\(name)\" (fd \(fd)) is bound to \(found), but credd looks for it at \(expected); "
                + "\(unit) needs ListenStream=%t/credd/control.sock, and credd the same XDG_RUNTIME_DIR as the user manager"
        case .relativeBinaryPath(let path):
            return "the credd binary path \"\(path)\" is not absolute; systemd needs an absolute ExecStart= path"
        case .unsupportedCharacterInBinaryPath(let path):
            return "the credd binary path \"\(path)\" contains a control character or quote that "
                + "cannot be written into ExecStart=; move the binary to a plainer path"
        case .missingHome:
            return "neither XDG_CONFIG_HOME nor HOME is set; cannot locate ~/.config/systemd/user"
        case .foreignUnitFile(let path):
            return "\(path) exists and was not installed by credd; remove or rename it first "
                + "(credd only replaces unit files that carry its marker comment)"
        case .unitFileIO(let path, let action, let reason):
            return "cannot \(action) \(path): \(reason)"
        }
    }

    static func describe(errno: CInt) -> String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }
}
