import FoundationEssentials

/// The source of wall-clock time. Injected everywhere a decision depends on "now", so tests
/// can move time (and simulate a suspend or a clock jump) without sleeping.
public protocol WallClock: Sendable {
    func now() -> Date

    /// Returns when this clock reaches `deadline`, or earlier when the clock is set (an NTP
    /// step, `date -s`, a resume from suspend): either way the caller reads ``now()`` again.
    /// Throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

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
            try await Task.sleep(for: .milliseconds(Int64(wait * 1000)), clock: .continuous)
            return
        }
        _ = try await timer.wait()
    }

    /// The longest sleep without a kernel timer: how late a jump is noticed then.
    static let fallbackMaximumSleep: TimeInterval = 30
}

/// A wall clock that only moves when told to. For tests and simulations.
public final class ManualWallClock: WallClock {
    private let timeline: ManualTimeline<Date>

    public init(_ start: Date) {
        self.timeline = ManualTimeline(start: start)
    }

    public func now() -> Date { timeline.now }

    public func sleep(until deadline: Date) async throws {
        try await timeline.sleep(until: deadline)
    }

    /// The deadline of the sleep that ends first, if any task sleeps.
    public var firstSleeper: Date? { timeline.firstSleeper?.deadline }

    /// Time passing (or a suspend): wakes the sleepers whose deadline has come.
    public func advance(by seconds: TimeInterval) {
        timeline.move { $0 = $0.addingTimeInterval(seconds) }
    }

    /// The clock being set: wakes every sleeper, as the kernel does.
    public func set(_ date: Date) {
        timeline.move(to: date, wakingAll: true)
    }
}
