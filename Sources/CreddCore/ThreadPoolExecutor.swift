@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency
import Glibc

/// A thread an executor needs could not be started.
struct ExecutorStartError: Error, Equatable, CustomStringConvertible {
    let call: String
    let errno: Int32

    var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// Swift concurrency's default executor in the credd process, in place of libdispatch's pool:
/// a fixed set of worker threads that block on a condition variable while there is nothing to
/// run, and delayed jobs (`Task.sleep`) held by ``DelayedJobs``. Nothing in it wakes on its
/// own, whereas libdispatch arms a 1 Hz monitor of its pool, never cancelled, once any worker
/// thread has started (BENCHMARKS.md, defect 4).
///
/// Jobs run in the order they came, whatever their priority: credd's few tasks never compete.
final class ThreadPoolExecutor: TaskExecutor, SchedulingExecutor, Sendable {
    private let queue = JobQueue()
    private let delayed: DelayedJobs<UnownedJob>

    /// As many workers as online processors, like Swift's own pool, and at least two, so that
    /// one blocking call never stops every task.
    static var defaultThreadCount: Int { max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    convenience init(threadCount: Int) throws(ExecutorStartError) {
        try self.init(threadCount: threadCount, startThread: detachThread)
    }

    /// With a different way to start threads: tests use it to make starting fail.
    init(threadCount: Int, startThread: (@escaping @Sendable () -> Void) -> Bool) throws(ExecutorStartError) {
        let queue = self.queue
        self.delayed = try DelayedJobs(startThread: startThread) { queue.push($0) }
        for index in 0..<threadCount {
            let started = startThread { [self] in
                nameCurrentThread("credd-worker-\(index)")
                while let job = queue.pop() {
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
            guard started else {
                shutDown()
                throw ExecutorStartError(call: "pthread_create", errno: EAGAIN)
            }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        queue.push(UnownedJob(job))
    }

    func enqueue<C: Clock>(_ job: consuming ExecutorJob, after delay: C.Duration, tolerance: C.Duration?, clock: C) {
        delayed.schedule(UnownedJob(job), after: Self.duration(delay))
    }

    func enqueue<C: Clock>(_ job: consuming ExecutorJob, at instant: C.Instant, tolerance: C.Duration?, clock: C) {
        delayed.schedule(UnownedJob(job), after: Self.duration(clock.now.duration(to: instant)))
    }

    /// Lets the workers finish the queued jobs and end, and ends the timer's thread (its jobs
    /// are dropped). The process's default executor is never shut down; tests shut theirs.
    func shutDown() {
        delayed.close()
        queue.close()
    }

    /// The standard clocks measure in `Duration`; a clock that does not cannot be timed here,
    /// and its jobs run at once.
    private static func duration<D: DurationProtocol>(_ value: D) -> Duration {
        value as? Duration ?? .zero
    }
}
