import CreddPlatform
import Testing

@Suite("Event loop clock", .timeLimit(.minutes(1)))
struct EventLoopClockTests {
    @Test("sleeps until the deadline")
    func sleepsUntilDeadline() async throws {
        let clock = EventLoopClock()
        let deadline = clock.now.advanced(by: .milliseconds(50))
        try await clock.sleep(until: deadline)
        #expect(clock.now >= deadline)
    }

    @Test("a deadline already past returns at once", arguments: [Duration.zero, .seconds(-3600)])
    func pastDeadline(offset: Duration) async throws {
        let clock = EventLoopClock()
        let start = clock.now
        try await clock.sleep(until: start.advanced(by: offset))
        #expect(start.duration(to: clock.now) < .seconds(5))
    }

    @Test("cancelling the sleeping task ends the sleep with CancellationError")
    func cancelledWhileSleeping() async throws {
        let sleeping = Task { try await EventLoopClock().sleep(for: .seconds(3600)) }
        try await EventLoopClock().sleep(for: .milliseconds(20))
        sleeping.cancel()
        await #expect(throws: CancellationError.self) { try await sleeping.value }
    }

    @Test("a task cancelled before it sleeps does not sleep")
    func cancelledBeforeSleeping() async throws {
        let sleeping = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await EventLoopClock().sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await sleeping.value }
    }
}
