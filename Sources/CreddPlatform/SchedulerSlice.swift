import CGlibcGNU
import Glibc

/// Asks Linux's scheduler to run the calling thread in short slices. With EEVDF (Linux 6.12+), a
/// thread that asks for a shorter slice gets an earlier deadline when it wakes, so it runs before
/// a CPU-bound thread's longer slice ends. For threads that wake for a request and answer it in
/// microseconds (the endpoint's): a credential request is not kept waiting behind a busy
/// neighbour on the same core. Needs no privilege; older kernels accept and ignore it.
///
/// Keeps the thread's policy and nice value, and leaves a thread alone that is not SCHED_OTHER
/// (whoever started credd chose batch or idle scheduling).
/// - Returns: whether the kernel took the request.
@discardableResult
public func requestShortSchedulerSlice(_ slice: Duration = .microseconds(100)) -> Bool {
    guard sched_getscheduler(0) == SCHED_OTHER else { return false }
    errno = 0
    // On Linux, PRIO_PROCESS with 0 is the calling thread, not the whole process.
    let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    guard errno == 0 else { return false }
    let (seconds, attoseconds) = slice.components
    let nanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    return credd_sched_setattr_self(UInt32(SCHED_OTHER), nice, nanoseconds) == 0
}
