import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddRefresh

@Suite("Resume from suspend")
struct ResumeTests {
    @Test("a failing profile retries at once on resume, then every 2 s for a minute, then backs off again")
    func failingProfileRetriesQuicklyAfterResume() throws {
        var harness = MachineHarness(random: .highest)
        harness.startFresh(lifetime: hour)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        for _ in 1...5 {
            harness.send(.renewalFailed(.throttled))
            harness.send(.manualRefresh)
        }
        harness.send(.renewalFailed(.throttled))
        let slowRetry = try #require(harness.machine.nextRefresh)
        #expect(slowRetry.timeIntervalSince(harness.now) > 30)

        #expect(harness.send(.resumed) == [.renew(withMFACode: false)])
        for _ in 1...5 {
            harness.send(.renewalFailed(.throttled))
            let retry = try #require(harness.machine.nextRefresh)
            #expect(retry.timeIntervalSince(harness.now) <= 2)
            harness.advance(to: retry)
            #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        }
        harness.advance(by: 61)
        harness.send(.renewalFailed(.throttled))
        #expect(try #require(harness.machine.nextRefresh).timeIntervalSince(harness.now) > 2)
    }

    @Test("a fresh profile is only checked on resume: it renews if its time came while asleep")
    func freshProfileChecksItsDeadline() throws {
        var harness = MachineHarness()
        harness.startFresh(lifetime: hour)
        #expect(harness.send(.resumed).isEmpty)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        #expect(harness.send(.resumed) == [.renew(withMFACode: false)])
    }

    @Test("a profile waiting for its source does not renew on resume")
    func waitingForSourceStaysWaiting() throws {
        var harness = MachineHarness(spec("dev", source: "base"))
        harness.send(.tick)
        harness.send(.sourceUnavailable(.throttled))
        #expect(harness.send(.resumed).isEmpty)
    }
}
