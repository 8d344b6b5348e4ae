/// The notifier used when credd is not started by systemd (`NOTIFY_SOCKET` unset): drops every
/// notification, as sd_notify(3) itself does in that case.
public struct DisabledSystemdNotifier: SystemdNotifier {
    public init() {}

    public func send(_ notification: SystemdNotification) throws(SystemdError) {}
}
