import FoundationEssentials
import Glibc

/// Why the credential endpoint could not start, or a helper it offers failed.
///
/// Every message names the address, descriptor or file involved and what to do next; none
/// carries a credential or token value.
public struct EndpointError: Error, Sendable, Hashable {
    private enum Kind: Sendable, Hashable {
        case notLoopback(String)
        case bindFailed(host: String, port: Int, reason: String)
        case portHeld(address: String)
        case adoptFailed(descriptor: Int32, reason: String)
        case alreadyStarted
        case socketTableUnreadable(path: String, errno: Int32)
        case tokenFile(path: String, operation: String, errno: Int32)
        case tokenDirectoryInsecure(path: String, reason: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    static func notLoopback(_ address: String) -> EndpointError { EndpointError(.notLoopback(address)) }

    static func bindFailed(host: String, port: Int, reason: String) -> EndpointError {
        EndpointError(.bindFailed(host: host, port: port, reason: reason))
    }

    static func portHeld(address: String) -> EndpointError { EndpointError(.portHeld(address: address)) }

    /// Whether another program listens on the endpoint's port: the daemon then runs without the
    /// endpoint rather than exit, since clients of `localhost` could reach that program instead.
    public var isPortHeld: Bool {
        if case .portHeld = kind { return true }
        return false
    }

    static func adoptFailed(descriptor: Int32, reason: String) -> EndpointError {
        EndpointError(.adoptFailed(descriptor: descriptor, reason: reason))
    }

    static let alreadyStarted = EndpointError(.alreadyStarted)

    static func socketTableUnreadable(path: String, errno: Int32) -> EndpointError {
        EndpointError(.socketTableUnreadable(path: path, errno: errno))
    }

    static func tokenFile(path: String, operation: String, errno: Int32) -> EndpointError {
        EndpointError(.tokenFile(path: path, operation: operation, errno: errno))
    }

    static func tokenDirectoryInsecure(path: String, reason: String) -> EndpointError {
        EndpointError(.tokenDirectoryInsecure(path: path, reason: reason))
    }
}

extension EndpointError: CustomStringConvertible {
    public var description: String {
        switch kind {
        case .notLoopback(let address):
            return "the credential endpoint must listen on a loopback address (127.0.0.1 or ::1), not \(address); "
                + "fix `listen` in the [credd] section of the config"
        case .bindFailed(let host, let port, let reason):
            return "cannot listen on \(host):\(port): \(reason); "
                + "stop whatever uses that port or choose another with `listen` in the [credd] section"
        case .portHeld(let address):
            return "another program holds \(address), so the credential endpoint is off: "
                + "clients of this port could get that program's answers and send it the container token; "
                + "stop that program (`ss -ltnp` names it) or choose another port with `listen` in the [credd] section, then restart credd"
        case .adoptFailed(let descriptor, let reason):
            return "cannot use the listening socket passed by systemd (fd \(descriptor)): \(reason); "
                + "check ListenStream= in credd.socket"
        case .alreadyStarted:
            return "the credential endpoint is already listening; bind or adopt a socket only once"
        case .socketTableUnreadable(let path, let errno):
            return "cannot read \(path) to check which user a client runs as: \(String(cString: strerror(errno))); "
                + "the endpoint refuses every client until it can"
        case .tokenFile(let path, let operation, let errno):
            return "cannot \(operation) the container token file \(path): \(String(cString: strerror(errno))); "
                + "check that $XDG_RUNTIME_DIR exists and belongs to you"
        case .tokenDirectoryInsecure(let path, let reason):
            return "refusing to write the container token into \(path): \(reason); "
                + "remove that directory and restart credd"
        }
    }
}
