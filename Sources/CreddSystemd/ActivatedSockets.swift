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
    /// Why passed sockets were left out, each naming the socket, the cause and the fix. A wrong
    /// socket never stops the daemon: it runs with the sockets that are right and reports these.
    public let problems: [SystemdError]

    public init(endpoints: [CInt] = [], control: CInt? = nil, problems: [SystemdError] = []) {
        self.endpoints = endpoints
        self.control = control
        self.problems = problems
    }

    /// True when systemd passed nothing usable and the daemon binds both sockets itself.
    public var isEmpty: Bool { endpoints.isEmpty && control == nil }

    /// Takes the sockets systemd passed to this process (`LISTEN_FDS`, `LISTEN_PID`,
    /// `LISTEN_FDNAMES`) and checks each one's type. Call once, early: it unsets those variables
    /// so child processes do not inherit them. Empty when the process was not socket-activated.
    ///
    /// - Parameter expectedControlPath: when set, the control socket must be bound to this path.
    public static func take(expectedControlPath: String? = nil) -> ActivatedSockets {
        do {
            return adopt(try passedSockets(), expectedControlPath: expectedControlPath)
        } catch {
            return ActivatedSockets(problems: [error])
        }
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

    /// Sorts passed fds by name and keeps each that is the kind of listening socket its name
    /// promises; the others become ``problems``.
    static func adopt(_ passed: [PassedSocket], expectedControlPath: String?) -> ActivatedSockets {
        var endpoints: [CInt] = []
        var control: CInt?
        var problems: [SystemdError] = []
        for socket in passed {
            let problem: SystemdError.Problem?
            switch socket.name {
            case "endpoint":
                problem = check(socket, unit: UnitFiles.endpointSocketName, wants: .tcp)
                if problem == nil { endpoints.append(socket.fileDescriptor) }
            case "control":
                problem = control != nil
                    ? .duplicateSocketName(fd: socket.fileDescriptor, name: socket.name)
                    : check(socket, unit: UnitFiles.controlSocketName, wants: .unix(path: expectedControlPath))
                if problem == nil { control = socket.fileDescriptor }
            default:
                problem = .unexpectedSocketName(fd: socket.fileDescriptor, name: socket.name)
            }
            if let problem { problems.append(SystemdError(problem)) }
        }
        return ActivatedSockets(endpoints: endpoints, control: control, problems: problems)
    }

    /// The listening socket a name stands for: TCP, or AF_UNIX bound to `path` when it is known.
    private enum Expectation {
        case tcp
        case unix(path: String?)
    }

    /// What is wrong with `socket`, if anything.
    private static func check(_ socket: PassedSocket, unit: String, wants expectation: Expectation) -> SystemdError.Problem? {
        let fd = socket.fileDescriptor
        let name = socket.name
        let verdict: ListeningSocketCheck.Verdict
        do {
            verdict = try ListeningSocketCheck.inspect(fd)
        } catch {
            return .socketTypeCheckFailed(fd: fd, name: name, errno: error.errno)
        }
        switch verdict {
        case .notASocket:
            return .notASocket(fd: fd, name: name, unit: unit)
        case .notAStreamSocket:
            return .notAStreamSocket(fd: fd, name: name, unit: unit)
        case .notListening:
            return .notListening(fd: fd, name: name, unit: unit)
        case let .listening(family, unixPath):
            switch (expectation, unixPath) {
            case (.tcp, nil):
                return family == AF_INET || family == AF_INET6
                    ? nil : .wrongFamily(fd: fd, name: name, unit: unit, found: "a socket of family \(family)", expected: "TCP on a loopback address")
            case (.tcp, .some):
                return .wrongFamily(fd: fd, name: name, unit: unit, found: "an AF_UNIX socket", expected: "TCP on a loopback address")
            case (.unix, nil):
                return .wrongFamily(fd: fd, name: name, unit: unit, found: "a TCP socket", expected: "an AF_UNIX socket")
            case let (.unix(wanted?), found?) where found != wanted:
                return .unixPathMismatch(fd: fd, name: name, unit: unit, found: found, expected: wanted)
            case (.unix, .some):
                return nil
            }
        }
    }
}
