import CTimerFD
@preconcurrency import Dispatch
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
/// The descriptor is watched by a dispatch source (epoll), so waiting costs no CPU.
/// `@unchecked Sendable`: the dispatch source is not marked `Sendable`, but it is thread-safe
/// and set up before the timer is shared; the mutable state is behind a `Mutex`.
final class RealtimeTimer: @unchecked Sendable {
    private enum State {
        case armed
        /// Woke (or was cancelled) before anyone waited.
        case woke(Result<RealtimeTimerWake, any Error>)
        case waiting(CheckedContinuation<RealtimeTimerWake, any Error>)
        case finished
    }

    private let descriptor: Int32
    private let source: any DispatchSourceRead
    private let state = Mutex(State.armed)

    init(deadline: Date) throws(RealtimeTimerError) {
        let descriptor = timerfd_create(CLOCK_REALTIME, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        guard descriptor >= 0 else { throw RealtimeTimerError(call: "timerfd_create", errno: Glibc.errno) }
        let seconds = deadline.timeIntervalSince1970.rounded(.down)
        var value = itimerspec()
        // A zero deadline would disarm the timer: 1 ns past the epoch fires at once instead.
        value.it_value.tv_sec = max(0, Int(seconds))
        value.it_value.tv_nsec = seconds < 0 ? 1 : max(1, Int((deadline.timeIntervalSince1970 - seconds) * 1e9))
        let flags = Int32(TFD_TIMER_ABSTIME) | Int32(TFD_TIMER_CANCEL_ON_SET)
        guard timerfd_settime(descriptor, flags, &value, nil) == 0 else {
            let error = RealtimeTimerError(call: "timerfd_settime", errno: Glibc.errno)
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        self.source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: Self.queue)
        // Weak: a timer dropped without waiting must deinit, which cancels the source.
        source.setEventHandler { [weak self] in self?.readExpiry() }
        source.setCancelHandler { close(descriptor) }
        source.resume()
    }

    deinit {
        source.cancel()
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

    private func readExpiry() {
        var expirations: UInt64 = 0
        let count = read(descriptor, &expirations, MemoryLayout<UInt64>.size)
        do {
            guard let wake = try Self.interpretRead(byteCount: count, errno: count < 0 ? Glibc.errno : 0) else { return }
            complete(with: .success(wake))
        } catch {
            complete(with: .failure(error))
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
        source.cancel()
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

    private static let queue = DispatchQueue(label: "credd.realtime-timer")
}
