import CreddTestSupport
import Foundation
import Synchronization
import Testing

/// The one wait of the test suites must end loudly, never return as if the condition held.
@Suite("eventually", .timeLimit(.minutes(1)))
struct EventuallyTests {
    @Test("a condition that never holds throws at the timeout, naming what was awaited")
    func pollingTimesOut() async throws {
        let error = await #expect(throws: TestSupportError.self) {
            try await eventually("the moon", timeout: .milliseconds(50)) { false }
        }
        #expect(error?.description.contains("the moon") == true)
    }

    @Test("the blocking form throws at the timeout too")
    func blockingTimesOut() throws {
        #expect(throws: TestSupportError.self) {
            try eventually("the moon", timeout: .milliseconds(50)) { false }
        }
    }

    @Test("a condition that holds later ends the wait; an error from it ends it at once")
    func pollingSucceedsOrRethrows() async throws {
        let checks = Atomic(0)
        try await eventually { checks.add(1, ordering: .relaxed).newValue >= 3 }
        #expect(checks.load(ordering: .relaxed) == 3)
        struct Broken: Error {}
        await #expect(throws: Broken.self) {
            try await eventually(timeout: .seconds(30)) { throw Broken() }
        }
    }

    @Test("the event-driven form checks again on each change and throws when none comes")
    func eventDriven() async throws {
        let changes = ChangeSignal()
        let ready = Atomic(false)
        let waiting = Task {
            try await eventually("ready", timeout: .seconds(30), on: changes) { ready.load(ordering: .relaxed) }
        }
        changes.changed()  // nothing holds yet: the wait goes on
        ready.store(true, ordering: .relaxed)
        changes.changed()
        try await waiting.value

        let error = await #expect(throws: TestSupportError.self) {
            try await eventually("a change that never comes", timeout: .milliseconds(50), on: ChangeSignal()) { false }
        }
        #expect(error?.description.contains("a change that never comes") == true)
    }
}
