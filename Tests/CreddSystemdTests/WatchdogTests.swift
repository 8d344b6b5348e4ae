import CreddTestSupport
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
    import Glibc
#endif

@Suite("systemd watchdog", .timeLimit(.minutes(1)))
struct WatchdogTests {
    final class HealthFlag: Sendable {
        private let value = Mutex(true)
        var isHealthy: Bool { value.withLock { $0 } }
        func set(_ healthy: Bool) { value.withLock { $0 = healthy } }
    }

    @Test func pingIntervalIsHalfTheTimeout() {
        #expect(WatchdogSettings(timeout: .seconds(30)).pingInterval == .seconds(15))
    }

    @Test func petsAtHalfIntervalOnlyWhileHealthy() async {
        let clock = TestClock()
        let notifier = RecordingNotifier()
        let health = HealthFlag()
        let logs = InMemoryLogHandler()
        let watchdog = Watchdog(
            settings: WatchdogSettings(timeout: .seconds(30)),
            notifier: notifier,
            clock: clock,
            logger: Logger(label: "test", factory: { _ in logs }),
            isHealthy: { health.isHealthy }
        )
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        let running = Task { await watchdog.run() }

        // A ping at start, then one per 15 s.
        var deadline = await sleeps.next()
        #expect(deadline?.offset == .seconds(15))
        #expect(notifier.sent == [.watchdog])
        clock.advance(by: .seconds(15))
        deadline = await sleeps.next()
        #expect(deadline?.offset == .seconds(30))
        #expect(notifier.sent == [.watchdog, .watchdog])

        // Unhealthy: no pings however long it lasts, and one log line for the change.
        health.set(false)
        for tick in 3...5 {
            clock.advance(by: .seconds(15))
            deadline = await sleeps.next()
            #expect(deadline?.offset == .seconds(15 * tick))
        }
        #expect(notifier.sent.count == 2)
        #expect(logs.entries.map(\.level) == [.error])

        // Recovered before systemd gave up: pinging resumes.
        health.set(true)
        clock.advance(by: .seconds(15))
        _ = await sleeps.next()
        #expect(notifier.sent.count == 3)
        #expect(logs.entries.map(\.level) == [.error, .notice])

        running.cancel()
        await running.value
    }

    @Test func failedPingIsLoggedAndPingingContinues() async {
        let clock = TestClock()
        let notifier = RecordingNotifier(
            failingWith: SystemdError(.notifyFailed(state: "WATCHDOG=1", errno: ECONNREFUSED)))
        let logs = InMemoryLogHandler()
        let watchdog = Watchdog(
            settings: WatchdogSettings(timeout: .seconds(10)),
            notifier: notifier,
            clock: clock,
            logger: Logger(label: "test", factory: { _ in logs }),
            isHealthy: { true }
        )
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        let running = Task { await watchdog.run() }
        _ = await sleeps.next()
        clock.advance(by: .seconds(5))
        _ = await sleeps.next()
        running.cancel()
        await running.value

        #expect(notifier.sent == [.watchdog, .watchdog])
        #expect(logs.entries.count == 2)
        #expect(
            logs.entries.allSatisfy { $0.level == .warning && $0.metadata["credd.event"] == "watchdog_ping_failed" })
    }

    @Test func cancellationEndsTheRunner() async {
        let clock = TestClock()
        let watchdog = Watchdog(
            settings: WatchdogSettings(timeout: .seconds(30)),
            notifier: RecordingNotifier(),
            clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            isHealthy: { true }
        )
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        let running = Task { await watchdog.run() }
        _ = await sleeps.next()
        running.cancel()
        await running.value  // Returns without the clock moving.
    }

    /// WATCHDOG_USEC/WATCHDOG_PID come from the process environment: child process.
    @Test func settingsComeFromTheEnvironmentForThisProcessOnly() async {
        await #expect(processExitsWith: .success) {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
            let unset = try WatchdogSettings.fromEnvironment()
            #expect(unset == nil)

            setenv("WATCHDOG_USEC", "30000000", 1)
            setenv("WATCHDOG_PID", String(getpid()), 1)
            let enabled = try WatchdogSettings.fromEnvironment()
            #expect(enabled == WatchdogSettings(timeout: .seconds(30)))

            // Meant for another process (e.g. inherited from the parent): not ours.
            setenv("WATCHDOG_PID", String(getppid()), 1)
            let someoneElses = try WatchdogSettings.fromEnvironment()
            #expect(someoneElses == nil)

            setenv("WATCHDOG_PID", String(getpid()), 1)
            setenv("WATCHDOG_USEC", "thirty", 1)
            let error = #expect(throws: SystemdError.self) { try WatchdogSettings.fromEnvironment() }
            #expect(error.map(String.init(describing:))?.contains("WATCHDOG_USEC/WATCHDOG_PID are malformed") == true)
        }
    }
}
