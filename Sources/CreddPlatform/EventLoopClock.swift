import NIOCore
import NIOPosix

/// A monotonic clock whose sleeps are timers on NIO's singleton event loop, the loop that also
/// runs every task in the daemon: a sleep wakes that one thread once, at its deadline.
///
/// The daemon sleeps on it instead of `Task.sleep` and `ContinuousClock`, which in Swift 6.3
/// become `dispatch_after` on a global queue. The first of those starts libdispatch's
/// worker-pool monitor, a 1-second timer that then wakes the process every second for good
/// (docs/decisions/0001-executors-and-signals.md). Like `SuspendingClock`, it stops while the
/// machine is suspended: deadlines that must follow the wall clock use ``SystemWallClock``.
public struct EventLoopClock: Clock {
    public typealias Duration = Swift.Duration
    public typealias Instant = SuspendingClock.Instant

    public init() {}

    public var now: Instant { SuspendingClock.now }

    public var minimumResolution: Duration { SuspendingClock().minimumResolution }

    /// Sleeps until `deadline`; throws `CancellationError` at once when the task is cancelled.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(now.duration(to: deadline))) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch EventLoopError.cancelled {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }
}
