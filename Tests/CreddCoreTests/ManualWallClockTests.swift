import CreddTestSupport
import Foundation
import Testing

@Suite("Manual wall clock")
struct ManualWallClockTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("advancing wakes only the sleepers now due; setting the clock wakes them all")
    func wakeUps() async throws {
        let clock = ManualWallClock(start)
        let later = Task { try await clock.sleep(until: start.addingTimeInterval(3600)) }
        try await eventually("the first sleep", on: clock.changes) { clock.firstSleeper != nil }
        let soon = Task { try await clock.sleep(until: start.addingTimeInterval(10)) }
        try await eventually("the second sleep", on: clock.changes) { clock.firstSleeper == start.addingTimeInterval(10) }
        clock.advance(by: 10)
        try await soon.value
        #expect(clock.firstSleeper == start.addingTimeInterval(3600))
        clock.set(start.addingTimeInterval(-60))
        try await later.value
        #expect(clock.firstSleeper == nil)
        #expect(clock.now() == start.addingTimeInterval(-60))
    }
}
