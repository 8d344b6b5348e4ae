import CTimerFD
import Glibc
import Synchronization

/// Jobs due at a later time (`Task.sleep`; generic so that tests can schedule plain values),
/// held until then by one thread blocked in `read()` on
/// a `timerfd` armed at the earliest deadline; with nothing held the timer is disarmed and the
/// thread sleeps until a job arrives. Deadlines are on `CLOCK_BOOTTIME`, which
/// `ContinuousClock` reads on Linux, so a suspend counts towards them.
final class DelayedJobs<Job: Sendable>: Sendable {
    private struct Entry {
        /// Nanoseconds on `CLOCK_BOOTTIME`.
        let deadline: Int64
        /// Keeps jobs with the same deadline in the order they came.
        let sequence: UInt64
        let job: Job
    }

    private struct State {
        /// Earliest first.
        var entries: [Entry] = []
        var nextSequence: UInt64 = 0
        var closed = false
    }

    private let descriptor: Int32
    private let state = Mutex(State())
    private let release: @Sendable (Job) -> Void

    /// `release` receives each job once it is due, on the timer's thread.
    init(
        startThread: (@escaping @Sendable () -> Void) -> Bool = detachThread,
        release: @escaping @Sendable (Job) -> Void
    ) throws(ExecutorStartError) {
        let descriptor = timerfd_create(CLOCK_BOOTTIME, Int32(TFD_CLOEXEC))
        guard descriptor >= 0 else { throw ExecutorStartError(call: "timerfd_create", errno: Glibc.errno) }
        self.descriptor = descriptor
        self.release = release
        let started = startThread { [self] in
            nameCurrentThread("credd-sleeps")
            waitForDeadlines()
        }
        guard started else {
            Glibc.close(descriptor)
            throw ExecutorStartError(call: "pthread_create", errno: EAGAIN)
        }
    }

    /// Holds `job` for `delay` (none when it is not positive).
    func schedule(_ job: Job, after delay: Duration) {
        let (seconds, attoseconds) = delay.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let delayNanoseconds = nanoseconds.overflow ? Int64.max : nanoseconds.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        let now = Self.now()
        let sum = now.addingReportingOverflow(max(0, delayNanoseconds))
        let deadline = sum.overflow ? Int64.max : sum.partialValue
        state.withLock { state in
            guard !state.closed else { return }
            let entry = Entry(deadline: deadline, sequence: state.nextSequence, job: job)
            state.nextSequence += 1
            let index = state.entries.partitionPoint { $0.deadline > deadline }
            state.entries.insert(entry, at: index)
            if index == 0 { arm(at: deadline) }
        }
    }

    /// Ends the timer's thread; jobs still held are dropped.
    func close() {
        state.withLock { state in
            state.closed = true
            state.entries = []
            arm(at: 1)
        }
    }

    private func waitForDeadlines() {
        while true {
            var expirations: UInt64 = 0
            if read(descriptor, &expirations, MemoryLayout<UInt64>.size) < 0 {
                let error = Glibc.errno
                precondition(error == EINTR, "read(timerfd) of the executor's timer failed: errno \(error)")
            }
            let now = Self.now()
            let (due, closed) = state.withLock { state -> ([Job], Bool) in
                let count = state.entries.partitionPoint { $0.deadline > now }
                let due = state.entries.prefix(count).map(\.job)
                state.entries.removeFirst(count)
                if let next = state.entries.first { arm(at: next.deadline) }
                return (due, state.closed)
            }
            if closed {
                Glibc.close(descriptor)
                return
            }
            for job in due { release(job) }
        }
    }

    /// Arms the timer at `deadline`, replacing the previous deadline (and waking the thread's
    /// `read` early when the new one has passed already). Called with the state locked.
    private func arm(at deadline: Int64) {
        var value = itimerspec()
        // Zero would disarm the timer: 1 ns fires at once instead.
        let positive = max(1, deadline)
        value.it_value.tv_sec = Int(positive / 1_000_000_000)
        value.it_value.tv_nsec = Int(positive % 1_000_000_000)
        let result = timerfd_settime(descriptor, Int32(TFD_TIMER_ABSTIME), &value, nil)
        precondition(result == 0, "timerfd_settime of the executor's timer failed: errno \(Glibc.errno)")
    }

    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_BOOTTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

extension Array {
    /// The index of the first element for which `belongsAfter` is true, in an array where all
    /// those elements come last (binary search).
    fileprivate func partitionPoint(_ belongsAfter: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
