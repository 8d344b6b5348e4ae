import NIOPosix

/// Runs blocking work (file locks, fsync) one item at a time in the order it came, on a thread
/// pool of NIO's with one thread: off the event loop, which runs every task of the process (NIO
/// is Swift concurrency's executor there). The idle thread waits on a condition variable.
public final class SerialBlockingWork: Sendable {
    private let pool: NIOThreadPool

    public init() {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Runs `work` after everything submitted before it, and returns its result. The pool stops
    /// only in `deinit`, after the last call, so no work is ever skipped.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            pool.submit { _ in continuation.resume(returning: work()) }
        }
    }
}
