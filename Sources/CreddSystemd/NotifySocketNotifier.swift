import CSystemd

/// Sends notifications to the service manager with libsystemd's `sd_notify`, which reads
/// `NOTIFY_SOCKET` from the process environment at each send (so a test must set it there, in a
/// child process).
public struct NotifySocketNotifier: SystemdNotifier {
    public init() {}

    public func send(_ notification: SystemdNotification) throws(SystemdError) {
        let state = notification.state
        let sent = sd_notify(0, state)
        // 0: NOTIFY_SOCKET is not set (any more).
        if sent == 0 { throw SystemdError(.notifySocketVanished(state: state)) }
        if sent < 0 { throw SystemdError(.notifyFailed(state: state, errno: -sent)) }
    }
}
