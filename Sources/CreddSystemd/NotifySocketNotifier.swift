#if canImport(Glibc)
import Glibc
#endif

/// Sends notifications to the socket named by `NOTIFY_SOCKET` (sd_notify(3)'s protocol: one
/// datagram of newline-separated assignments). Reads the variable from the process environment
/// at each send, as sd_notify does (so a test must set it there, in a child process).
public struct NotifySocketNotifier: SystemdNotifier {
    public init() {}

    public func send(_ notification: SystemdNotification) throws(SystemdError) {
        let state = notification.state
        guard let address = environmentValue("NOTIFY_SOCKET"), !address.isEmpty else {
            throw SystemdError(.notifySocketVanished(state: state))
        }
        let failure = UnixDatagram.send(Array(state.utf8), to: address)
        if failure != 0 {
            throw SystemdError(.notifyFailed(state: state, errno: failure))
        }
    }
}
