import Synchronization

/// Runs blocking work (file locks, fsync) one item at a time in the order it came, on a thread
/// started when work arrives and ended when none is left: off the executor's few threads, and
/// without a libdispatch queue, whose worker pool wakes every second once started.
public final class SerialWorkThread: Sendable {
    private struct State {
        var items: [@Sendable () -> Void] = []
        /// A thread (or a caller, when none could start) is running the items.
        var draining = false
    }

    private let state = Mutex(State())
    private let startThread: @Sendable (@escaping @Sendable () -> Void) -> Bool

    public convenience init() {
        self.init(startThread: detachThread)
    }

    /// With a different way to start the thread: tests use it to make starting fail.
    init(startThread: @escaping @Sendable (@escaping @Sendable () -> Void) -> Bool) {
        self.startThread = startThread
    }

    /// Runs `work` after everything submitted before it, and returns its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: work()) }
        }
    }

    private func submit(_ item: @escaping @Sendable () -> Void) {
        let start = state.withLock { state -> Bool in
            state.items.append(item)
            defer { state.draining = true }
            return !state.draining
        }
        // Without a thread the caller does the work: late, but in order.
        if start && !startThread({ [self] in
            nameCurrentThread("credd-blocking")
            drain()
        }) {
            drain()
        }
    }

    private func drain() {
        while let item = state.withLock({ state -> (@Sendable () -> Void)? in
            guard !state.items.isEmpty else {
                state.draining = false
                return nil
            }
            return state.items.removeFirst()
        }) {
            item()
        }
    }
}
