import CreddCore
import Synchronization

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

    /// One waiting sleep: which call it is and when it is due.
    public struct SleeperInfo: Equatable, Sendable {
        public let id: Int
        public let deadline: Instant
    }

    private struct Sleeper {
        let info: SleeperInfo
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var cancelledBeforeRegistration: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())
    private let sleepStartedContinuation: AsyncStream<Instant>.Continuation
    /// The wall clock that moves along with this one.
    public let wallClock: ManualWallClock?
    /// The deadline of every sleep, in the order they began.
    public let sleepStarted: AsyncStream<Instant>

    public init(wallClock: ManualWallClock? = nil) {
        self.wallClock = wallClock
        (sleepStarted, sleepStartedContinuation) = AsyncStream.makeStream()
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case due, cancelled, waiting }
                let outcome = state.withLock { state -> Outcome in
                    if state.cancelledBeforeRegistration.remove(id) != nil { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers.append(Sleeper(info: SleeperInfo(id: id, deadline: deadline), continuation: continuation))
                    return .waiting
                }
                switch outcome {
                case .due: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: sleepStartedContinuation.yield(deadline)
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.info.id == id }) else {
                    state.cancelledBeforeRegistration.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The sleeper that wakes first.
    public var firstSleeper: SleeperInfo? {
        state.withLock { $0.sleepers.map(\.info).min { $0.deadline < $1.deadline } }
    }

    /// Moves time (and the linked wall clock) forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        wallClock?.advance(by: Double(seconds) + Double(attoseconds) / 1e18)
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.info.deadline <= now }
            state.sleepers.removeAll { $0.info.deadline <= now }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }
}
