#if canImport(Glibc)
    import Glibc
#endif

/// One state change credd reports to the service manager (see sd_notify(3)).
public enum SystemdNotification: Sendable, Hashable {
    /// Start-up (or a reload) finished: sockets are bound and the first refresh pass has run.
    case ready
    /// A one-line, human-readable status shown by `systemctl --user status credd`.
    case status(String)
    /// A reload began. systemd ≥ 253 (`Type=notify-reload`) requires the CLOCK_MONOTONIC time it
    /// started at, so it can tell this reload apart from an earlier one.
    case reloading(monotonicMicroseconds: UInt64)
    /// Shutdown began.
    case stopping
    /// The watchdog keep-alive ping.
    case watchdog

    /// A reload notification stamped with the current CLOCK_MONOTONIC time.
    public static func reloadingNow() -> SystemdNotification {
        .reloading(monotonicMicroseconds: MonotonicClock.microsecondsNow())
    }

    /// The exact datagram text sent to `NOTIFY_SOCKET`: newline-separated assignments.
    public var state: String {
        switch self {
        case .ready:
            return "READY=1"
        case .status(let line):
            // One assignment per line is the protocol; a newline would end the status early.
            return "STATUS=" + line.map { $0.isNewline ? " " : String($0) }.joined()
        case .reloading(let microseconds):
            return "RELOADING=1\nMONOTONIC_USEC=\(microseconds)"
        case .stopping:
            return "STOPPING=1"
        case .watchdog:
            return "WATCHDOG=1"
        }
    }
}

/// CLOCK_MONOTONIC, the clock systemd's `MONOTONIC_USEC=` is measured on.
enum MonotonicClock {
    static func microsecondsNow() -> UInt64 {
        var now = timespec()
        // CLOCK_MONOTONIC cannot fail with a valid timespec pointer (clock_gettime(2)).
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
