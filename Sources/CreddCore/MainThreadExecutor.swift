@_spi(ExperimentalCustomExecutors) import _Concurrency
import Glibc
import Synchronization

/// The main actor's executor in the credd process: the main thread, running jobs in order
/// and blocked on a condition variable between them, where libdispatch's main queue would be
/// drained by its worker pool once `main` returns.
final class MainThreadExecutor: MainExecutor, Sendable {
    private let queue = JobQueue()
    /// The `pthread_t` of the thread in ``run()``, 0 before.
    private let runner = Atomic<UInt>(0)

    init() {}

    func enqueue(_ job: consuming ExecutorJob) {
        queue.push(UnownedJob(job))
    }

    /// Runs jobs on the calling thread, which must be the main thread, until ``stop()``.
    func run() {
        runner.store(pthread_self(), ordering: .releasing)
        while let job = queue.pop() {
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    func stop() {
        queue.close()
    }

    /// The runtime asks this when it cannot tell by itself, e.g. `MainActor.assumeIsolated` in
    /// synchronous code: isolated means on the thread in ``run()``.
    func checkIsolated() {
        precondition(pthread_equal(pthread_self(), runner.load(ordering: .acquiring)) != 0, "expected to run on the main actor's thread")
    }
}
