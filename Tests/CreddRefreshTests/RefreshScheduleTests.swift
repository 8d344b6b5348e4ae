import Foundation
import Testing

@testable import CreddRefresh

@Suite("Refresh schedule")
struct RefreshScheduleTests {
    let schedule = RefreshSchedule()

    struct RenewalCase: Sendable, CustomTestStringConvertible {
        let lifetime: TimeInterval
        let interactive: Bool
        /// Seconds after the session was obtained, with jitter at 0 and at its maximum.
        let latest: TimeInterval
        let earliest: TimeInterval
        var testDescription: String { "\(Int(lifetime / 60)) min, interactive: \(interactive)" }
    }

    @Test(arguments: [
        // 15 min: the lead time cannot be met; the floor (a quarter of the lifetime) rules.
        RenewalCase(lifetime: 15 * minute, interactive: false, latest: 225, earliest: 225),
        // 1 h: 20 minutes before expiry, up to 6 minutes earlier with jitter.
        RenewalCase(lifetime: hour, interactive: false, latest: 40 * minute, earliest: 34 * minute),
        // 12 h: a third of the lifetime left (4 h), up to 72 minutes earlier.
        RenewalCase(lifetime: 12 * hour, interactive: false, latest: 8 * hour, earliest: 8 * hour - 72 * minute),
        // 36 h: 12 h left, up to 3.6 h earlier.
        RenewalCase(lifetime: 36 * hour, interactive: false, latest: 24 * hour, earliest: 24 * hour - 3.6 * hour),
        // Interactive MFA: ask with at least an hour left, at most once per half lifetime.
        RenewalCase(lifetime: 15 * minute, interactive: true, latest: 450, earliest: 450),
        RenewalCase(lifetime: hour, interactive: true, latest: 30 * minute, earliest: 30 * minute),
        RenewalCase(lifetime: 12 * hour, interactive: true, latest: 8 * hour, earliest: 8 * hour - 72 * minute),
        RenewalCase(lifetime: 36 * hour, interactive: true, latest: 24 * hour, earliest: 24 * hour - 3.6 * hour),
    ])
    func renewalTimes(_ example: RenewalCase) {
        let expiration = epoch.addingTimeInterval(example.lifetime)
        let withoutJitter = schedule.renewalTime(
            obtainedAt: epoch, expiration: expiration, interactive: example.interactive, jitter: 0)
        let fullJitter = schedule.renewalTime(
            obtainedAt: epoch, expiration: expiration, interactive: example.interactive, jitter: 0.999_999_9)
        #expect(abs(withoutJitter.timeIntervalSince(epoch) - example.latest) < 1)
        #expect(abs(fullJitter.timeIntervalSince(epoch) - example.earliest) < 1)
    }

    @Test(
        "jitter only moves renewal earlier, within its window, never below the floor",
        arguments: [15 * minute, 30 * minute, hour, 6 * hour, 12 * hour, 36 * hour])
    func jitterBounds(lifetime: TimeInterval) {
        let expiration = epoch.addingTimeInterval(lifetime)
        for interactive in [false, true] {
            let latest = schedule.renewalTime(obtainedAt: epoch, expiration: expiration, interactive: interactive, jitter: 0)
            for step in 0..<100 {
                let jitter = Double(step) / 100
                let renewAt = schedule.renewalTime(
                    obtainedAt: epoch, expiration: expiration, interactive: interactive, jitter: jitter)
                #expect(renewAt <= latest)
                #expect(renewAt >= latest.addingTimeInterval(-schedule.maximumJitterFraction * lifetime))
                let floor = interactive ? schedule.interactiveMinimumRenewalFraction : schedule.minimumRenewalFraction
                #expect(renewAt.timeIntervalSince(epoch) >= floor * lifetime - 0.001)
                // Sessions long enough to allow it are renewed with more than 20 minutes left.
                if lifetime >= hour {
                    #expect(expiration.timeIntervalSince(renewAt) >= 20 * minute)
                }
            }
        }
    }

    struct BackoffCase: Sendable {
        let failedAttempts: Int
        let window: TimeInterval
    }

    @Test(
        "exponential backoff: 5 s doubling up to 5 min",
        arguments: [
            BackoffCase(failedAttempts: 1, window: 5),
            BackoffCase(failedAttempts: 2, window: 10),
            BackoffCase(failedAttempts: 3, window: 20),
            BackoffCase(failedAttempts: 4, window: 40),
            BackoffCase(failedAttempts: 6, window: 160),
            BackoffCase(failedAttempts: 7, window: 300),
            BackoffCase(failedAttempts: 50, window: 300),
            BackoffCase(failedAttempts: Int.max, window: 300),
        ])
    func backoffBounds(_ example: BackoffCase) {
        let serving = epoch.addingTimeInterval(12 * hour)
        let lowest = schedule.retryTime(after: example.failedAttempts, now: epoch, jitter: 0, servingUntil: serving)
        let highest = schedule.retryTime(after: example.failedAttempts, now: epoch, jitter: 0.999_999, servingUntil: serving)
        let middle = schedule.retryTime(after: example.failedAttempts, now: epoch, jitter: 0.5, servingUntil: serving)
        // Full jitter: anywhere in the window, with a 1 s floor against hot loops.
        #expect(lowest.timeIntervalSince(epoch) == schedule.retryMinimumDelay)
        #expect(abs(highest.timeIntervalSince(epoch) - example.window) < 0.01)
        #expect(abs(middle.timeIntervalSince(epoch) - max(1, example.window / 2)) < 0.01)
    }

    @Test(
        "with nothing in service, backoff stops growing at 30 s",
        arguments: [
            BackoffCase(failedAttempts: 1, window: 5),
            BackoffCase(failedAttempts: 3, window: 20),
            BackoffCase(failedAttempts: 4, window: 30),
            BackoffCase(failedAttempts: Int.max, window: 30),
        ])
    func backoffWithoutCredentials(_ example: BackoffCase) {
        // Never obtained, and obtained but expired (the fault suite's long outage), alike.
        for servingUntil in [nil, epoch.addingTimeInterval(-minute)] {
            let highest = schedule.retryTime(after: example.failedAttempts, now: epoch, jitter: 0.999_999, servingUntil: servingUntil)
            let lowest = schedule.retryTime(after: example.failedAttempts, now: epoch, jitter: 0, servingUntil: servingUntil)
            #expect(abs(highest.timeIntervalSince(epoch) - example.window) < 0.01)
            #expect(lowest.timeIntervalSince(epoch) == schedule.retryMinimumDelay)
        }
    }

    @Test("a retry never waits past the credentials still in service")
    func retryBeforeExpiry() {
        let soon = schedule.retryTime(
            after: 10, now: epoch, jitter: 0.999, servingUntil: epoch.addingTimeInterval(2 * minute))
        #expect(soon.timeIntervalSince(epoch) == 90)
        let almostGone = schedule.retryTime(
            after: 10, now: epoch, jitter: 0.999, servingUntil: epoch.addingTimeInterval(10))
        #expect(almostGone.timeIntervalSince(epoch) == schedule.retryMinimumDelay)
        let plenty = schedule.retryTime(after: 1, now: epoch, jitter: 0.999_999, servingUntil: epoch.addingTimeInterval(hour))
        #expect(abs(plenty.timeIntervalSince(epoch) - 5) < 0.01)
    }
}
