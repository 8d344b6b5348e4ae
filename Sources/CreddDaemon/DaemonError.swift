import Glibc

/// Why the daemon, or a CLI call to it, failed. Messages name the file or profile involved and
/// never hold a secret.
public enum DaemonError: Error, Sendable, Hashable, CustomStringConvertible {
    case runtimeDirectory(String, String)
    case controlSocket(String, String)
    case noDaemon(String)
    case protocolError(String)
    case configuration(String)
    /// Turning core dumps off failed (the call and its errno): credd refuses to hold credentials then.
    case hardening(String, CInt)

    public var description: String {
        switch self {
        case let .runtimeDirectory(path, reason):
            return "runtime directory \(path): \(reason)"
        case let .controlSocket(path, reason):
            return "control socket \(path): \(reason)"
        case let .noDaemon(path):
            return "no credd daemon answers on \(path); start it with `systemctl --user start credd` or `credd run`"
        case let .protocolError(reason):
            return "unexpected answer from the daemon: \(reason)"
        case let .configuration(reason):
            return reason
        case let .hardening(call, code):
            return "cannot turn off core dumps: \(call) failed: \(String(cString: strerror(code))) (errno \(code)); "
                + "credd does not run where a core dump could hold its credentials (a seccomp filter may refuse prctl)"
        }
    }
}
