import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The watchdog interval systemd asked for (`WatchdogSec=` in credd.service).
public struct WatchdogSettings: Sendable, Hashable {
    /// How long systemd waits for a ping before it aborts and restarts the service.
    public let timeout: Duration

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// How often to ping: half the timeout, as sd_watchdog_enabled(3) recommends, so one late
    /// ping never costs a restart.
    public var pingInterval: Duration { timeout / 2 }

    /// Reads `WATCHDOG_USEC`/`WATCHDOG_PID` as sd_watchdog_enabled(3) does; nil when systemd did
    /// not enable the watchdog for this process (a `WATCHDOG_PID` of another process included).
    public static func fromEnvironment() throws(SystemdError) -> WatchdogSettings? {
        guard let timeout = environmentValue("WATCHDOG_USEC") else { return nil }
        guard let microseconds = UInt64(timeout), microseconds > 0, microseconds < UInt64.max else {
            throw SystemdError(.watchdogQueryFailed(errno: EINVAL))
        }
        if let pid = environmentValue("WATCHDOG_PID") {
            guard let owner = pid_t(pid), owner > 0 else { throw SystemdError(.watchdogQueryFailed(errno: EINVAL)) }
            guard owner == getpid() else { return nil }
        }
        return WatchdogSettings(timeout: .microseconds(microseconds))
    }
}

/// Pings systemd's watchdog every half interval while `isHealthy` says the daemon works.
///
/// The daemon's health check should confirm the refresh loop and the endpoint have made progress
/// recently. When it fails the pings stop, so systemd restarts a wedged daemon after `WatchdogSec=`;
/// if the daemon recovers first, pinging resumes. One of the daemon's services: `run()` returns
/// when its task is cancelled or a graceful shutdown begins.
public struct Watchdog<WatchdogClock: Clock>: Service where WatchdogClock.Duration == Duration {
    private let settings: WatchdogSettings
    private let notifier: any SystemdNotifier
    private let clock: WatchdogClock
    private let logger: Logger
    private let isHealthy: @Sendable () async -> Bool

    public init(
        settings: WatchdogSettings,
        notifier: any SystemdNotifier,
        clock: WatchdogClock,
        logger: Logger,
        isHealthy: @escaping @Sendable () async -> Bool
    ) {
        self.settings = settings
        self.notifier = notifier
        self.clock = clock
        self.logger = logger
        self.isHealthy = isHealthy
    }

    /// Pings now and then every ``WatchdogSettings/pingInterval`` until cancelled or shut down.
    public func run() async {
        await cancelWhenGracefulShutdown { await pingWhileHealthy() }
    }

    private func pingWhileHealthy() async {
        var wasHealthy = true
        while !Task.isCancelled {
            let healthy = await isHealthy()
            if healthy {
                ping()
            }
            // Log transitions only: one line per state change, not one per tick.
            if healthy != wasHealthy {
                logHealthChange(healthy: healthy)
                wasHealthy = healthy
            }
            do {
                try await clock.sleep(for: settings.pingInterval)
            } catch {
                return  // Cancelled: the daemon is shutting down.
            }
        }
    }

    private func ping() {
        do {
            try notifier.send(.watchdog)
        } catch {
            logger.warning(
                "Could not ping the systemd watchdog; systemd may restart credd",
                metadata: ["credd.event": "watchdog_ping_failed", "error": "\(error)"]
            )
        }
    }

    private func logHealthChange(healthy: Bool) {
        if healthy {
            logger.notice(
                "Daemon healthy again; resumed pinging the systemd watchdog",
                metadata: ["credd.event": "watchdog_resumed"]
            )
        } else {
            logger.error(
                "Health check failed; stopped pinging the systemd watchdog so systemd restarts credd",
                metadata: ["credd.event": "watchdog_stopped", "watchdog.timeout": "\(settings.timeout)"]
            )
        }
    }
}
