import CSystemd

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

    /// Reads the sockets systemd passed with libsystemd's `sd_listen_fds_with_names`, unsetting
    /// the variables in every case; each descriptor becomes close-on-exec.
    private static func passedSockets() throws(SystemdError) -> [PassedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                for index in 0..<Int(max(count, 0)) { free(names[index]) }
                free(names)
            }
        }
        guard count >= 0 else { throw SystemdError(.listenFdsFailed(errno: -count)) }
        return (0..<count).map { offset in
            PassedSocket(
                fileDescriptor: SD_LISTEN_FDS_START + offset,
                name: names?[Int(offset)].map { String(cString: $0) } ?? "unknown")
        }
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
                problem =
                    control != nil
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
