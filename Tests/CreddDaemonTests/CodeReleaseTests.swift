import CreddEndpoint
@testable import CreddPlatform
import CreddTestSupport
import Logging
import Synchronization
import Testing

@testable import CreddDaemon

@Suite struct CodeReleaseTests {
    /// A `CodeRelease` on a test clock whose releases are counted, not performed.
    final class Harness: Sendable {
        final class Counter: Sendable {
            let value = Mutex(0)
        }

        let clock = TestClock()
        let releases = Counter()
        let codeRelease: CodeRelease<TestClock>
        /// The releaser, started with the harness.
        let running: Task<Void, Never>

        init(smapsReadable: Bool = true) {
            let releases = releases
            codeRelease = CodeRelease(quietPeriod: .seconds(3), clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) {
                releases.value.withLock { $0 += 1 }
                return smapsReadable ? ResidentCode.Release(releasedKiB: 100, failedMappings: 0) : nil
            }
            running = Task { [codeRelease] in await codeRelease.run() }
        }

        /// Shuts the releaser down; returns how many releases it made.
        func stop() async -> Int {
            running.cancel()
            await running.value
            return releaseCount
        }

        var releaseCount: Int { releases.value.withLock { $0 } }

        /// Lets the quiet period that has begun pass, and waits for release number `count`.
        func passQuietPeriod(_ sleeps: inout AsyncStream<TestClock.Instant>.Iterator, expectingRelease count: Int) async {
            _ = await sleeps.next()
            clock.advance(by: .seconds(3))
            await waitUntil { releaseCount >= count }
        }
    }

    @Test func releasesOnceTheQuietPeriodAfterActivityHasPassed() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        harness.codeRelease.noteActivity()
        let deadline = await sleeps.next()
        #expect(deadline == TestClock.Instant(offset: .seconds(3)))
        #expect(harness.releaseCount == 0, "nothing is released while the work may go on")
        harness.clock.advance(by: .seconds(3))
        await waitUntil { harness.releaseCount == 1 }
        #expect(await harness.stop() == 1)
    }

    @Test func activityDuringTheQuietPeriodPostponesTheRelease() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        harness.codeRelease.noteActivity()
        _ = await sleeps.next()
        harness.codeRelease.noteActivity()
        harness.codeRelease.noteActivity()
        harness.clock.advance(by: .seconds(3))
        // The burst began a second quiet period rather than a release.
        let second = await sleeps.next()
        #expect(second == TestClock.Instant(offset: .seconds(6)))
        #expect(harness.releaseCount == 0)
        harness.clock.advance(by: .seconds(3))
        await waitUntil { harness.releaseCount == 1 }
        // The burst's buffered activity was covered by that release: no second one follows.
        harness.codeRelease.noteActivity()
        await harness.passQuietPeriod(&sleeps, expectingRelease: 2)
        #expect(await harness.stop() == 2, "one release per settled burst")
    }

    @Test func anIdleDaemonNeitherSleepsNorReleases() async {
        let harness = Harness()
        await Task.yield()
        #expect(harness.clock.firstSleeper == nil, "no timer without activity")
        #expect(await harness.stop() == 0)
    }

    @Test func shuttingDownDuringTheQuietPeriodReleasesNothing() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        harness.codeRelease.noteActivity()
        _ = await sleeps.next()
        #expect(await harness.stop() == 0)
    }

    @Test func anUnreadableSmapsDoesNotStopLaterReleases() async {
        let harness = Harness(smapsReadable: false)
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        harness.codeRelease.noteActivity()
        await harness.passQuietPeriod(&sleeps, expectingRelease: 1)
        harness.codeRelease.noteActivity()
        await harness.passQuietPeriod(&sleeps, expectingRelease: 2)
        #expect(await harness.stop() == 2)
    }

    @Test func credentialRequestsToTheEndpointCountAsActivity() async {
        struct NoProfiles: EndpointCredentialSource {
            func lookup(profile: String) -> EndpointLookup { .unknown }
        }
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let source = ActivityReportingSource(source: NoProfiles(), codeRelease: harness.codeRelease)
        guard case .unknown = source.lookup(profile: "dev") else {
            Issue.record("the lookup is not the wrapped source's")
            return
        }
        await harness.passQuietPeriod(&sleeps, expectingRelease: 1)
        #expect(await harness.stop() == 1)
    }

    @Test func manyRequestsUnderLoadLeadToOneRelease() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<1_000 { harness.codeRelease.noteActivity() } }
            }
        }
        var deadline = await sleeps.next()
        // The loads came while it waited (or before it looked): at most one more quiet period.
        while harness.releaseCount == 0 {
            harness.clock.advance(by: .seconds(3))
            await waitUntil { harness.releaseCount == 1 || harness.clock.firstSleeper != nil }
            if harness.releaseCount == 0 { deadline = await sleeps.next() }
        }
        #expect(deadline != nil)
        await Task.yield()
        #expect(harness.clock.firstSleeper == nil, "no further wake-up once the activity is covered")
        #expect(await harness.stop() == 1)
    }

}

/// Yields until `condition` holds, a bounded number of times.
private func waitUntil(_ condition: @Sendable () -> Bool) async {
    for _ in 0..<10_000 where !condition() { await Task.yield() }
}
