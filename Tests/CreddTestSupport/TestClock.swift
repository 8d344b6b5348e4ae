import CreddCore

/// A `Clock` whose sleepers wake only when the test calls ``advance(by:)``. ``sleepStarted``
/// yields each time a task begins sleeping and ``firstSleeper`` names the next to wake, so a test
/// knows when the code under test is waiting. Advancing also moves the linked wall clock, if any,
/// so code reading both sees them agree (unless a test moves the wall clock alone, as a suspend
/// or a clock jump would).
public final class TestClock: Clock {
    public struct Instant: InstantProtocol {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    public typealias SleeperInfo = ManualTimeline<Instant>.SleeperInfo

    private let timeline = ManualTimeline(start: Instant(offset: .zero))
    private let sleepStartedContinuation: AsyncStream<Instant>.Continuation
    /// The wall clock that moves along with this one.
    public let wallClock: ManualWallClock?
    /// The deadline of every sleep, in the order they began.
    public let sleepStarted: AsyncStream<Instant>

    public init(wallClock: ManualWallClock? = nil) {
        self.wallClock = wallClock
        (sleepStarted, sleepStartedContinuation) = AsyncStream.makeStream()
    }

    public var now: Instant { timeline.now }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let started = sleepStartedContinuation
        try await timeline.sleep(until: deadline) { started.yield($0) }
    }

    /// The sleeper that wakes first.
    public var firstSleeper: SleeperInfo? { timeline.firstSleeper }

    /// Moves time (and the linked wall clock) forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        wallClock?.advance(by: Double(seconds) + Double(attoseconds) / 1e18)
        timeline.move { $0 = $0.advanced(by: duration) }
    }
}
