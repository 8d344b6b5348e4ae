import Glibc

/// Why the daemon failed to start or serve. Messages name the file or profile involved and
/// never hold a secret.
public enum DaemonError: Error, Sendable, Hashable, CustomStringConvertible {
    case runtimeDirectory(String, String)
    case controlSocket(String, String)
    case configuration(String)
    /// Turning core dumps off failed (the call and its errno): credd refuses to hold credentials then.
    case hardening(String, CInt)

    public var description: String {
        switch self {
        case let .runtimeDirectory(path, reason):
            return "runtime directory \(path): \(reason)"
        case let .controlSocket(path, reason):
            return "control socket \(path): \(reason)"
        case let .configuration(reason):
            return reason
        case let .hardening(call, code):
            return "cannot turn off core dumps: \(call) failed: \(String(cString: strerror(code))) (errno \(code)); "
                + "credd does not run where a core dump could hold its credentials (a seccomp filter may refuse prctl)"
        }
    }
}
