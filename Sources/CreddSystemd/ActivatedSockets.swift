import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets handed over by systemd socket activation (credd.socket), by name.
///
/// The file descriptors belong to the caller from ``take(expectedControlPath:)`` on: adopt them
/// (e.g. NIO's `ServerBootstrap.withBoundSocket(_:)`) and bind the missing ones yourself.
public struct ActivatedSockets: Sendable, Hashable {
    /// The credential endpoint: a listening TCP socket (`FileDescriptorName=endpoint`).
    public let endpoint: CInt?
    /// The control socket: a listening `AF_UNIX` stream socket (`FileDescriptorName=control`).
    public let control: CInt?

    public init(endpoint: CInt? = nil, control: CInt? = nil) {
        self.endpoint = endpoint
        self.control = control
    }

    /// True when systemd passed nothing and the daemon binds both sockets itself.
    public var isEmpty: Bool { endpoint == nil && control == nil }

    /// Takes the sockets systemd passed to this process (`LISTEN_FDS`, `LISTEN_PID`,
    /// `LISTEN_FDNAMES`) and checks each one's type. Call once, early: it unsets those variables
    /// so child processes do not inherit them. Empty when the process was not socket-activated.
    ///
    /// - Parameter expectedControlPath: when set, the control socket must be bound to this path.
    public static func take(expectedControlPath: String? = nil) throws(SystemdError) -> ActivatedSockets {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        if count < 0 {
            throw SystemdError(.listenFdsFailed(errno: -count))
        }
        defer { freeNames(names) }
        let nameStrings = readNames(names)
        var passed: [PassedSocket] = []
        for index in 0..<count {
            // libsystemd names every fd ("unknown" when it has none); a missing entry reads alike.
            let name = Int(index) < nameStrings.count ? nameStrings[Int(index)] : "unknown"
            passed.append(PassedSocket(fileDescriptor: SD_LISTEN_FDS_START + index, name: name))
        }
        return try adopt(passed, expectedControlPath: expectedControlPath)
    }

    /// One fd as systemd passed it.
    struct PassedSocket: Sendable, Hashable {
        let fileDescriptor: CInt
        let name: String
    }

    /// Sorts passed fds by name and verifies each is the kind of listening socket its name promises.
    static func adopt(_ passed: [PassedSocket], expectedControlPath: String?) throws(SystemdError) -> ActivatedSockets {
        var endpoint: CInt?
        var control: CInt?
        for socket in passed {
            switch socket.name {
            case "endpoint":
                guard endpoint == nil else {
                    throw SystemdError(.duplicateSocketName(fd: socket.fileDescriptor, name: socket.name))
                }
                try verify(socket, expected: "a listening TCP socket") {
                    sd_is_socket_inet($0, AF_UNSPEC, CInt(SOCK_STREAM.rawValue), 1, 0)
                }
                endpoint = socket.fileDescriptor
            case "control":
                guard control == nil else {
                    throw SystemdError(.duplicateSocketName(fd: socket.fileDescriptor, name: socket.name))
                }
                let expected =
                    expectedControlPath.map { "a listening AF_UNIX stream socket at \($0)" }
                    ?? "a listening AF_UNIX stream socket"
                try verify(socket, expected: expected) { fd in
                    // length 0: the path is NUL-terminated (sd_is_socket_unix(3)); nil skips the check.
                    sd_is_socket_unix(fd, CInt(SOCK_STREAM.rawValue), 1, expectedControlPath, 0)
                }
                control = socket.fileDescriptor
            default:
                throw SystemdError(.unexpectedSocketName(fd: socket.fileDescriptor, name: socket.name))
            }
        }
        return ActivatedSockets(endpoint: endpoint, control: control)
    }

    private static func verify(
        _ socket: PassedSocket,
        expected: String,
        check: (CInt) -> CInt
    ) throws(SystemdError) {
        let result = check(socket.fileDescriptor)
        if result < 0 {
            throw SystemdError(.socketTypeCheckFailed(fd: socket.fileDescriptor, name: socket.name, errno: -result))
        }
        if result == 0 {
            throw SystemdError(.wrongSocketType(fd: socket.fileDescriptor, name: socket.name, expected: expected))
        }
    }

    /// The names in libsystemd's NULL-terminated array.
    private static func readNames(_ names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        guard let names else { return [] }
        var result: [String] = []
        var index = 0
        while let name = names[index] {
            result.append(String(cString: name))
            index += 1
        }
        return result
    }

    /// sd_listen_fds_with_names(3): the caller frees each name and then the array.
    private static func freeNames(_ names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard let names else { return }
        var index = 0
        while let name = names[index] {
            free(name)
            index += 1
        }
        free(names)
    }
}
