import Logging

/// Sends service-manager notifications. credd talks to it through this protocol so the daemon
/// runs unchanged outside systemd (``DisabledSystemdNotifier``) and tests can record calls.
public protocol SystemdNotifier: Sendable {
    /// Sends one notification; throws when the service manager could not be told.
    func send(_ notification: SystemdNotification) throws(SystemdError)
}

extension SystemdNotifier {
    /// Sends `notification`; a failure becomes a warning in `logger` (event `systemd_notify_failed`),
    /// for call sites where the daemon should keep running without systemd hearing from it.
    public func send(_ notification: SystemdNotification, loggingFailureTo logger: Logger) {
        do {
            try send(notification)
        } catch {
            logger.warning(
                "Could not notify systemd",
                metadata: ["credd.event": "systemd_notify_failed", "error": "\(error)"]
            )
        }
    }
}

/// Chooses the notifier for this process.
public enum SystemdNotifiers {
    /// The `NOTIFY_SOCKET` notifier when `NOTIFY_SOCKET` is set (credd runs under systemd), else a no-op.
    public static func make(environment: [String: String]) -> any SystemdNotifier {
        if let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty {
            return NotifySocketNotifier()
        }
        return DisabledSystemdNotifier()
    }
}
