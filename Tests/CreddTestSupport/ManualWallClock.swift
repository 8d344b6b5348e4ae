import CreddCore
import Foundation

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

    /// Every sleep that starts or ends and every move of the time (see ``ManualTimeline/changes``).
    public var changes: ChangeSignal { timeline.changes }

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
