/// Why a D-Bus operation failed, in words a user can act on.
public enum BusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No bus at `address` (nothing listening, or no address known).
    case noBus(address: String, reason: String)
    /// The connection was closed, by credd or because the bus went away.
    case disconnected
    /// No program owns `name` on the bus.
    case serviceMissing(String)
    /// The peer answered with a D-Bus error.
    case callFailed(name: String, message: String)
    /// The Secret Service collection holding `what` is locked: the desktop's own prompt unlocks it.
    case locked(String)
    /// A message could not be built or read (a type credd does not speak, or a malformed reply).
    case malformed(String)

    public var description: String {
        switch self {
        case .noBus(let address, let reason): "no D-Bus at \(address): \(reason)"
        case .disconnected: "the D-Bus connection is closed"
        case .serviceMissing(let name): "no \(name) on the bus"
        case .callFailed(let name, let message): "\(name): \(message)"
        case .locked(let what): "the keyring holding \(what) is locked; unlock it (your desktop asks for its password) and try again"
        case .malformed(let what): "D-Bus message: \(what)"
        }
    }
}
