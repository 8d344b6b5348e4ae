import CreddCore
import CreddEndpoint
import CreddPlatform
import Logging
import Synchronization

/// Hands back the resident copies of code once the daemon's work has settled: after the first
/// pass, after each renewal, after a reload. The code that ran stays mapped otherwise, and the
/// idle daemon would keep the pages of start-up and renewal code it does not need for the next
/// tens of minutes (see ``ResidentCode``).
///
/// Work is reported with ``noteActivity()`` (status changes, credential requests to the endpoint);
/// the release comes once none has been reported for `quietPeriod`, so a burst of renewals or
/// requests leads to one release, and an idle daemon does nothing.
final class CodeRelease<QuietClock: Clock>: Sendable where QuietClock.Duration == Duration {
    private let quietPeriod: Duration
    private let clock: QuietClock
    private let logger: Logger
    private let release: @Sendable () -> ResidentCode.Release?
    private let activity: AsyncStream<Void>
    private let activityContinuation: AsyncStream<Void>.Continuation
    private let generation = Atomic<UInt64>(0)
    private let waiting = Atomic<Bool>(false)

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
        generation.add(1, ordering: .sequentiallyConsistent)
        // Wake the releaser only while it waits for activity: under endpoint load this is an
        // atomic add and a load per request, not a task wake-up.
        if waiting.load(ordering: .sequentiallyConsistent), waiting.exchange(false, ordering: .sequentiallyConsistent) {
            activityContinuation.yield()
        }
    }

    /// Releases after each quiet period that follows activity, until cancelled.
    func run() async {
        var wakeUps = activity.makeAsyncIterator()
        var settled: UInt64 = 0  // The activity count at the last release.
        while !Task.isCancelled {
            waiting.store(true, ordering: .sequentiallyConsistent)
            // Activity noted before `waiting` was set did not wake this loop: look for it here.
            if generation.load(ordering: .sequentiallyConsistent) == settled {
                guard await wakeUps.next() != nil else { return }
            }
            waiting.store(false, ordering: .sequentiallyConsistent)
            var seen = generation.load(ordering: .sequentiallyConsistent)
            if seen == settled { continue }  // A wake-up for activity the last release covered.
            while true {
                do {
                    try await clock.sleep(for: quietPeriod)
                } catch {
                    return  // Cancelled: shutting down.
                }
                let now = generation.load(ordering: .sequentiallyConsistent)
                if now == seen { break }
                seen = now
            }
            settled = seen
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

/// The endpoint's credential source, reporting each lookup as activity: the code a request ran is
/// handed back once requests stop, not kept until the next renewal.
struct ActivityReportingSource<QuietClock: Clock>: EndpointCredentialSource where QuietClock.Duration == Duration {
    let source: any EndpointCredentialSource
    let codeRelease: CodeRelease<QuietClock>

    func lookup(profile: String) -> EndpointLookup {
        codeRelease.noteActivity()
        return source.lookup(profile: profile)
    }
}
