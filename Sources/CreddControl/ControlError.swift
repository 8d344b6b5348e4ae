/// Why a call over the control socket failed. Messages name the socket and never hold a secret.
public enum ControlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The socket at the path could not be used, and why.
    case socket(String, String)
    /// Nothing listens at the path.
    case noDaemon(String)
    /// The other side sent something that is not a message of this protocol.
    case protocolError(String)

    public var description: String {
        switch self {
        case let .socket(path, reason):
            return "control socket \(path): \(reason)"
        case let .noDaemon(path):
            return "no credd daemon answers on \(path); start it with `systemctl --user start credd` or `credd run`"
        case let .protocolError(reason):
            return "unexpected answer from the daemon: \(reason)"
        }
    }
}
