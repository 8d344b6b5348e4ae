@testable import CreddCore
import CreddEndpoint
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

        init(smapsReadable: Bool = true) {
            let releases = releases
            codeRelease = CodeRelease(quietPeriod: .seconds(3), clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) {
                releases.value.withLock { $0 += 1 }
                return smapsReadable ? ResidentCode.Release(releasedKiB: 100, failedMappings: 0) : nil
            }
        }

        var releaseCount: Int { releases.value.withLock { $0 } }

        /// Advances by `seconds` once a sleep has begun, then lets the woken task run on.
        func advanceAfterNextSleep(_ sleeps: inout AsyncStream<TestClock.Instant>.Iterator, by seconds: Int) async {
            _ = await sleeps.next()
            clock.advance(by: .seconds(seconds))
        }
    }

    @Test func releasesOnceTheQuietPeriodAfterActivityHasPassed() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
        harness.codeRelease.noteActivity()
        let deadline = await sleeps.next()
        #expect(deadline == TestClock.Instant(offset: .seconds(3)))
        #expect(harness.releaseCount == 0, "nothing is released while the work may go on")
        harness.clock.advance(by: .seconds(3))
        await waitUntil { harness.releaseCount == 1 }
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 1)
    }

    @Test func activityDuringTheQuietPeriodPostponesTheRelease() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
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
        await harness.advanceAfterNextSleep(&sleeps, by: 3)
        await waitUntil { harness.releaseCount == 2 }
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 2, "one release per settled burst")
    }

    @Test func anIdleDaemonNeitherSleepsNorReleases() async {
        let harness = Harness()
        let running = Task { await harness.codeRelease.run() }
        await Task.yield()
        #expect(harness.clock.firstSleeper == nil, "no timer without activity")
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 0)
    }

    @Test func shuttingDownDuringTheQuietPeriodReleasesNothing() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
        harness.codeRelease.noteActivity()
        _ = await sleeps.next()
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 0)
    }

    @Test func anUnreadableSmapsDoesNotStopLaterReleases() async {
        let harness = Harness(smapsReadable: false)
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
        harness.codeRelease.noteActivity()
        await harness.advanceAfterNextSleep(&sleeps, by: 3)
        await waitUntil { harness.releaseCount == 1 }
        harness.codeRelease.noteActivity()
        await harness.advanceAfterNextSleep(&sleeps, by: 3)
        await waitUntil { harness.releaseCount == 2 }
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 2)
    }

    @Test func credentialRequestsToTheEndpointCountAsActivity() async {
        struct NoProfiles: EndpointCredentialSource {
            func lookup(profile: String) -> EndpointLookup { .unknown }
        }
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
        let source = ActivityReportingSource(source: NoProfiles(), codeRelease: harness.codeRelease)
        guard case .unknown = source.lookup(profile: "dev") else {
            Issue.record("the lookup is not the wrapped source's")
            return
        }
        await harness.advanceAfterNextSleep(&sleeps, by: 3)
        await waitUntil { harness.releaseCount == 1 }
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 1)
    }

    @Test func manyRequestsUnderLoadLeadToOneRelease() async {
        let harness = Harness()
        var sleeps = harness.clock.sleepStarted.makeAsyncIterator()
        let running = Task { await harness.codeRelease.run() }
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
        running.cancel()
        await running.value
        #expect(harness.releaseCount == 1)
    }

    private func waitUntil(_ condition: @Sendable () -> Bool) async {
        for _ in 0..<10_000 where !condition() { await Task.yield() }
    }
}
