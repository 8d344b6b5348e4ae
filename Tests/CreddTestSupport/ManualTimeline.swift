import Synchronization

/// Time that moves only when told to, with the tasks sleeping on it: the engine of
/// `ManualWallClock` and of the test clocks, so each wakes its sleepers the same way.
public final class ManualTimeline<Instant: Comparable & Sendable>: Sendable {
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
        var now: Instant
        var sleepers: [Sleeper] = []
        var cancelledBeforeRegistration: Set<Int> = []
        var nextID = 0
    }

    private let state: Mutex<State>
    /// Reports every sleep that starts, ends or is cancelled, and every move of the time: a
    /// test waits on it to know the code under test is sleeping, with no polling.
    public let changes = ChangeSignal()

    private enum Outcome { case due, cancelled, waiting }

    public init(start: Instant) {
        state = Mutex(State(now: start))
    }

    public var now: Instant { state.withLock { $0.now } }

    /// The sleeper that wakes first.
    public var firstSleeper: SleeperInfo? {
        state.withLock { $0.sleepers.map(\.info).min { $0.deadline < $1.deadline } }
    }

    /// Returns once time reaches `deadline` (or a ``move(to:wakingAll:)`` wakes every sleeper);
    /// throws `CancellationError` when the task is cancelled. `registered` runs when the sleep
    /// actually starts waiting.
    public func sleep(until deadline: Instant, registered: @Sendable (Instant) -> Void = { _ in }) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Outcome in
                    if state.cancelledBeforeRegistration.remove(id) != nil { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers.append(Sleeper(info: SleeperInfo(id: id, deadline: deadline), continuation: continuation))
                    return .waiting
                }
                switch outcome {
                case .due: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting:
                    registered(deadline)
                    changes.changed()
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
            changes.changed()
        }
    }

    /// Sets the time and wakes the sleepers now due, or all of them when `wakingAll` (what a
    /// real clock being set does to its sleepers).
    public func move(to instant: Instant, wakingAll: Bool = false) {
        move(wakingAll: wakingAll) { $0 = instant }
    }

    /// Changes the time with `change` (under the lock, so concurrent moves add up) and wakes
    /// as ``move(to:wakingAll:)`` does.
    public func move(wakingAll: Bool = false, _ change: (inout Instant) -> Void) {
        let woken = state.withLock { state -> [Sleeper] in
            change(&state.now)
            let now = state.now
            let woken = state.sleepers.filter { wakingAll || $0.info.deadline <= now }
            state.sleepers.removeAll { wakingAll || $0.info.deadline <= now }
            return woken
        }
        woken.forEach { $0.continuation.resume() }
        changes.changed()
    }
}
