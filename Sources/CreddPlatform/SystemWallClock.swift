import CreddCore
import FoundationEssentials

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    private let arm: @Sendable (Date) throws(RealtimeTimerError) -> RealtimeTimer

    public init() {
        self.init(arm: RealtimeTimer.init(deadline:))
    }

    /// With a different way to arm the timer: tests use it to make arming fail.
    init(arm: @escaping @Sendable (Date) throws(RealtimeTimerError) -> RealtimeTimer) {
        self.arm = arm
    }

    public func now() -> Date { Date() }

    /// Sleeps on a kernel timer armed at the wall-clock deadline: no periodic wake-ups, and a
    /// suspend or a clock change ends the sleep at once.
    public func sleep(until deadline: Date) async throws {
        let timer: RealtimeTimer
        do {
            timer = try arm(deadline)
        } catch {
            // No timer (out of descriptors): a bounded sleep keeps a jump from going unnoticed
            // for long without spinning.
            let wait = min(max(deadline.timeIntervalSince(now()), 0.01), Self.fallbackMaximumSleep)
            try await EventLoopClock().sleep(for: .milliseconds(Int64(wait * 1000)))
            return
        }
        _ = try await timer.wait()
    }

    /// The longest sleep without a kernel timer: how late a jump is noticed then.
    static let fallbackMaximumSleep: TimeInterval = 30
}
