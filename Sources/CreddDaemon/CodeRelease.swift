import CreddCore
import Logging
import Synchronization

/// Hands back the resident copies of code once the daemon's work has settled: after the first
/// pass, after each renewal, after a reload. The code that ran stays mapped otherwise, and the
/// idle daemon would keep the pages of start-up and renewal code it does not need for the next
/// tens of minutes (see ``ResidentCode``).
///
/// Work is reported with ``noteActivity()``; the release comes once none has been reported for
/// `quietPeriod`, so a burst of renewals leads to one release, and an idle daemon does nothing.
final class CodeRelease<QuietClock: Clock>: Sendable where QuietClock.Duration == Duration {
    private let quietPeriod: Duration
    private let clock: QuietClock
    private let logger: Logger
    private let release: @Sendable () -> ResidentCode.Release?
    private let activity: AsyncStream<Void>
    private let activityContinuation: AsyncStream<Void>.Continuation
    private let generation = Atomic<UInt64>(0)

    init(
        quietPeriod: Duration, clock: QuietClock, logger: Logger,
        release: @escaping @Sendable () -> ResidentCode.Release? = ResidentCode.release
    ) {
        self.quietPeriod = quietPeriod
        self.clock = clock
        self.logger = logger
        self.release = release
        (activity, activityContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func noteActivity() {
        generation.add(1, ordering: .relaxed)
        activityContinuation.yield()
    }

    /// Releases after each quiet period that follows activity, until cancelled.
    func run() async {
        var releasedAfter: UInt64?
        for await _ in activity {
            var seen = generation.load(ordering: .relaxed)
            // Activity already covered by the last release (it came during that quiet period).
            if seen == releasedAfter { continue }
            while true {
                do {
                    try await clock.sleep(for: quietPeriod)
                } catch {
                    return  // Cancelled: shutting down.
                }
                let now = generation.load(ordering: .relaxed)
                if now == seen { break }
                seen = now
            }
            releasedAfter = seen
            guard let outcome = release() else {
                logger.debug("resident code not released: /proc/self/smaps is unreadable")
                continue
            }
            logger.debug("released resident code", metadata: [
                "credd.released_kib": "\(outcome.releasedKiB)", "credd.failed_mappings": "\(outcome.failedMappings)",
            ])
        }
    }
}
