import Foundation
import Synchronization

/// Waits until `condition` holds, checking it at once and then every `interval`, and fails
/// loudly: throws when `timeout` passes first (a test that throws fails, with `what` in the
/// message). For what nothing signals: a file's content, another process's state. Prefer the
/// ``eventually(_:timeout:on:_:)`` form where the code under test can signal.
public func eventually(
    _ what: @autoclosure () -> String = "the condition",
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw timedOut(what(), timeout) }
        try await Task.sleep(for: interval)
    }
}

/// The same for tests that block their thread (they drive processes and wait on them).
public func eventually(
    _ what: @autoclosure () -> String = "the condition",
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(10),
    _ condition: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw timedOut(what(), timeout) }
        let (seconds, attoseconds) = interval.components
        usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
}

/// Waits until `condition` holds, checking it at once and after every change `changes`
/// reports, with no polling; throws when `timeout` passes first.
public func eventually(
    _ what: @autoclosure () -> String = "the condition",
    timeout: Duration = .seconds(30),
    on changes: ChangeSignal,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        // Read before checking: a change during the check is not missed.
        let generation = changes.generation
        if try await condition() { return }
        guard await changes.waitForChange(after: generation, until: deadline) else { throw timedOut(what(), timeout) }
    }
}

private func timedOut(_ what: String, _ timeout: Duration) -> TestSupportError {
    TestSupportError("timed out after \(timeout) waiting for \(what)")
}

/// Tells waiters that something they watch may have changed: the code under test (or a test
/// double around it) calls ``changed()``, and ``eventually(_:timeout:on:_:)`` checks again.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelledBeforeRegistration: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts the changes so far.
    public var generation: Int { state.withLock { $0.generation } }

    public func changed() {
        let waiters = state.withLock { state in
            state.generation += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns true once a change follows `generation`, false when `deadline` comes first.
    func waitForChange(after generation: Int, until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.change(after: generation)
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Returns after a change that follows `generation`, or when the task is cancelled.
    private func change(after generation: Int) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLock { state in
                    guard state.cancelledBeforeRegistration.remove(id) == nil, state.generation == generation else { return false }
                    state.waiters[id] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.cancelledBeforeRegistration.insert(id)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return waiter
            }
            waiter?.resume()
        }
    }
}
