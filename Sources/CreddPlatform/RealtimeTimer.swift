import CTimerFD
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a ``RealtimeTimer`` woke.
enum RealtimeTimerWake: Sendable, Equatable {
    case deadlineReached
    /// The wall clock was set (or the machine resumed) before the deadline.
    case clockChanged
}

/// A `timerfd` system call failed.
struct RealtimeTimerError: Error, Equatable, CustomStringConvertible {
    let call: String
    let errno: Int32

    var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// A one-shot `timerfd` on `CLOCK_REALTIME`, armed at an absolute deadline with
/// `TFD_TIMER_CANCEL_ON_SET`: the kernel wakes it at the deadline, or early with `ECANCELED`
/// when the wall clock is set, and a suspend is covered because the deadline is wall time.
/// A thread of its own waits in `read()` on the descriptor, so waiting costs no CPU.
final class RealtimeTimer: Sendable {
    private enum State {
        case armed
        /// Woke (or was cancelled) before anyone waited.
        case woke(Result<RealtimeTimerWake, any Error>)
        case waiting(CheckedContinuation<RealtimeTimerWake, any Error>)
        case finished
    }

    private let descriptor: SharedDescriptor
    private let state = Mutex(State.armed)

    convenience init(deadline: Date) throws(RealtimeTimerError) {
        try self.init(deadline: deadline, startThread: detachThread)
    }

    /// With a different way to start the waiting thread: tests use it to make starting fail.
    init(deadline: Date, startThread: (@escaping @Sendable () -> Void) -> Bool) throws(RealtimeTimerError) {
        let descriptor = try SharedDescriptor.timer(deadline: deadline)
        self.descriptor = descriptor
        // Weak: a timer dropped without waiting must deinit, which releases the thread.
        let started = startThread { [weak self] in
            nameCurrentThread("credd-walltimer")
            let result = descriptor.awaitExpiry()
            self?.complete(with: result)
        }
        guard started else { throw RealtimeTimerError(call: "pthread_create", errno: EAGAIN) }
    }

    deinit {
        descriptor.expireNow()
    }

    /// Waits for the deadline or a clock change. One wait per timer.
    func wait() async throws -> RealtimeTimerWake {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let early = state.withLock { state -> Result<RealtimeTimerWake, any Error>? in
                    switch state {
                    case .armed:
                        state = .waiting(continuation)
                        return nil
                    case .woke(let result):
                        state = .finished
                        return result
                    case .waiting, .finished:
                        return .failure(CancellationError())
                    }
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            complete(with: .failure(CancellationError()))
        }
    }

    /// The first outcome wins: it goes to the waiter, or is kept for the wait to come.
    private func complete(with result: Result<RealtimeTimerWake, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<RealtimeTimerWake, any Error>? in
            switch state {
            case .waiting(let continuation):
                state = .finished
                return continuation
            case .armed:
                state = .woke(result)
                return nil
            case .woke, .finished:
                return nil
            }
        }
        descriptor.expireNow()
        continuation?.resume(with: result)
    }

    /// What one `read` of the timer descriptor means: `nil` when nothing is due yet (a
    /// spurious wake-up).
    static func interpretRead(byteCount: Int, errno: Int32) throws(RealtimeTimerError) -> RealtimeTimerWake? {
        if byteCount == MemoryLayout<UInt64>.size { return .deadlineReached }
        switch errno {
        case ECANCELED: return .clockChanged
        case EAGAIN, EINTR: return nil
        default: throw RealtimeTimerError(call: "read(timerfd)", errno: byteCount < 0 ? errno : EIO)
        }
    }
}

/// How the timer and its thread use the descriptor.
extension SharedDescriptor {
    /// A `timerfd` armed at `deadline`.
    fileprivate static func timer(deadline: Date) throws(RealtimeTimerError) -> SharedDescriptor {
        let value = timerfd_create(CLOCK_REALTIME, Int32(TFD_CLOEXEC))
        guard value >= 0 else { throw RealtimeTimerError(call: "timerfd_create", errno: Glibc.errno) }
        let descriptor = SharedDescriptor(value)
        let seconds = deadline.timeIntervalSince1970.rounded(.down)
        var setting = itimerspec()
        // A zero deadline would disarm the timer: 1 ns past the epoch fires at once instead.
        setting.it_value.tv_sec = max(0, Int(seconds))
        setting.it_value.tv_nsec = seconds < 0 ? 1 : max(1, Int((deadline.timeIntervalSince1970 - seconds) * 1e9))
        let flags = Int32(TFD_TIMER_ABSTIME) | Int32(TFD_TIMER_CANCEL_ON_SET)
        guard timerfd_settime(value, flags, &setting, nil) == 0 else {
            throw RealtimeTimerError(call: "timerfd_settime", errno: Glibc.errno)
        }
        return descriptor
    }

    /// Blocks until the deadline, a clock change or an ``expireNow()``.
    fileprivate func awaitExpiry() -> Result<RealtimeTimerWake, any Error> {
        while true {
            var expirations: UInt64 = 0
            let count = read(value, &expirations, MemoryLayout<UInt64>.size)
            do {
                if let wake = try RealtimeTimer.interpretRead(byteCount: count, errno: count < 0 ? Glibc.errno : 0) { return .success(wake) }
            } catch {
                return .failure(error)
            }
        }
    }

    /// Re-arms the timer in the past, which ends a thread's wait in ``awaitExpiry()``.
    fileprivate func expireNow() {
        var setting = itimerspec()
        setting.it_value.tv_nsec = 1
        timerfd_settime(value, Int32(TFD_TIMER_ABSTIME), &setting, nil)
    }
}
