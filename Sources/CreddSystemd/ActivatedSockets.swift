#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets handed over by systemd socket activation (credd.socket), by name.
///
/// The file descriptors belong to the caller from ``take(expectedControlPath:)`` on: adopt them
/// (e.g. NIO's `ServerBootstrap.withBoundSocket(_:)`) and bind the missing ones yourself.
public struct ActivatedSockets: Sendable, Hashable {
    /// The credential endpoint: listening TCP sockets (`FileDescriptorName=endpoint`), one per
    /// loopback family.
    public let endpoints: [CInt]
    /// The control socket: a listening `AF_UNIX` stream socket (`FileDescriptorName=control`).
    public let control: CInt?

    public init(endpoints: [CInt] = [], control: CInt? = nil) {
        self.endpoints = endpoints
        self.control = control
    }

    /// True when systemd passed nothing and the daemon binds both sockets itself.
    public var isEmpty: Bool { endpoints.isEmpty && control == nil }

    /// Takes the sockets systemd passed to this process (`LISTEN_FDS`, `LISTEN_PID`,
    /// `LISTEN_FDNAMES`) and checks each one's type. Call once, early: it unsets those variables
    /// so child processes do not inherit them. Empty when the process was not socket-activated.
    ///
    /// - Parameter expectedControlPath: when set, the control socket must be bound to this path.
    public static func take(expectedControlPath: String? = nil) throws(SystemdError) -> ActivatedSockets {
        try adopt(passedSockets(), expectedControlPath: expectedControlPath)
    }

    /// The first descriptor systemd passes (sd_listen_fds(3)).
    static let firstPassedDescriptor: CInt = 3

    /// Reads the sockets systemd passed, as sd_listen_fds_with_names(3) with `unset_environment`
    /// set: the variables go in every case, and each descriptor becomes close-on-exec.
    private static func passedSockets() throws(SystemdError) -> [PassedSocket] {
        let pid = environmentValue("LISTEN_PID")
        let count = environmentValue("LISTEN_FDS")
        let names = environmentValue("LISTEN_FDNAMES")
        for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            unsetenv(variable)
        }
        guard let pid else { return [] }
        guard let owner = pid_t(pid), owner > 0 else { throw SystemdError(.listenFdsFailed(errno: EINVAL)) }
        // Inherited from a socket-activated parent: not ours.
        guard owner == getpid() else { return [] }
        guard let count, let passed = CInt(count), passed > 0, passed <= CInt.max - firstPassedDescriptor else {
            throw SystemdError(.listenFdsFailed(errno: EINVAL))
        }
        // systemd names every fd when it sets LISTEN_FDNAMES; without it each is "unknown".
        let nameList = names.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            ?? Array(repeating: "unknown", count: Int(passed))
        guard nameList.count == Int(passed) else { throw SystemdError(.listenFdsFailed(errno: EINVAL)) }
        var sockets: [PassedSocket] = []
        for (offset, name) in nameList.enumerated() {
            let fd = firstPassedDescriptor + CInt(offset)
            let flags = fcntl(fd, F_GETFD)
            guard flags >= 0, fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 else {
                throw SystemdError(.listenFdsFailed(errno: errno))
            }
            sockets.append(PassedSocket(fileDescriptor: fd, name: name))
        }
        return sockets
    }

    /// One fd as systemd passed it.
    struct PassedSocket: Sendable, Hashable {
        let fileDescriptor: CInt
        let name: String
    }

    /// Sorts passed fds by name and verifies each is the kind of listening socket its name promises.
    static func adopt(_ passed: [PassedSocket], expectedControlPath: String?) throws(SystemdError) -> ActivatedSockets {
        var endpoints: [CInt] = []
        var control: CInt?
        for socket in passed {
            switch socket.name {
            case "endpoint":
                try verify(socket, expected: "a listening TCP socket") { fd throws(ListeningSocketCheck.Failure) in
                    try ListeningSocketCheck.isTCP(fd)
                }
                endpoints.append(socket.fileDescriptor)
            case "control":
                guard control == nil else {
                    throw SystemdError(.duplicateSocketName(fd: socket.fileDescriptor, name: socket.name))
                }
                let expected =
                    expectedControlPath.map { "a listening AF_UNIX stream socket at \($0)" }
                    ?? "a listening AF_UNIX stream socket"
                try verify(socket, expected: expected) { fd throws(ListeningSocketCheck.Failure) in
                    try ListeningSocketCheck.isUnix(fd, boundTo: expectedControlPath)
                }
                control = socket.fileDescriptor
            default:
                throw SystemdError(.unexpectedSocketName(fd: socket.fileDescriptor, name: socket.name))
            }
        }
        return ActivatedSockets(endpoints: endpoints, control: control)
    }

    private static func verify(
        _ socket: PassedSocket,
        expected: String,
        check: (CInt) throws(ListeningSocketCheck.Failure) -> Bool
    ) throws(SystemdError) {
        let matches: Bool
        do {
            matches = try check(socket.fileDescriptor)
        } catch {
            throw SystemdError(.socketTypeCheckFailed(fd: socket.fileDescriptor, name: socket.name, errno: error.errno))
        }
        if !matches {
            throw SystemdError(.wrongSocketType(fd: socket.fileDescriptor, name: socket.name, expected: expected))
        }
    }
}
