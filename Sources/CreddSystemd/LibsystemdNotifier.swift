import CSystemd

/// Sends notifications with libsystemd's `sd_notify`, which reads `NOTIFY_SOCKET` from the
/// process environment (so a test must set it there, in a child process).
public struct LibsystemdNotifier: SystemdNotifier {
    public init() {}

    public func send(_ notification: SystemdNotification) throws(SystemdError) {
        let state = notification.state
        // unset_environment = 0: every later notification needs NOTIFY_SOCKET too.
        let result = sd_notify(0, state)
        if result < 0 {
            throw SystemdError(.notifyFailed(state: state, errno: -result))
        }
        if result == 0 {
            throw SystemdError(.notifySocketVanished(state: state))
        }
    }
}
