import CreddTestSupport
import Foundation
import Glibc
import Testing

@testable import CreddPlatform

@Suite("Real-time timer", .timeLimit(.minutes(1)))
struct RealtimeTimerTests {
    @Test("wakes once the wall clock reaches the deadline")
    func deadlineReached() async throws {
        let deadline = Date().addingTimeInterval(0.05)
        let wake = try await RealtimeTimer(deadline: deadline).wait()
        #expect(wake == .deadlineReached)
        #expect(Date() >= deadline)
    }

    @Test("a deadline already past wakes at once", arguments: [-3600.0, 0, -Date().timeIntervalSince1970 - 10])
    func pastDeadline(offset: TimeInterval) async throws {
        #expect(try await RealtimeTimer(deadline: Date().addingTimeInterval(offset)).wait() == .deadlineReached)
    }

    @Test("cancelling the waiting task ends the wait with CancellationError")
    func cancelledWhileWaiting() async throws {
        let timer = try RealtimeTimer(deadline: Date().addingTimeInterval(3600))
        let waiting = Task { try await timer.wait() }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test("fails when its waiting thread cannot start")
    func threadFails() {
        #expect(throws: RealtimeTimerError(call: "pthread_create", errno: EAGAIN)) {
            try RealtimeTimer(deadline: Date().addingTimeInterval(3600), startThread: { _ in false })
        }
    }

    @Test("a timer dropped without a wait lets its thread go")
    func droppedTimer() async throws {
        let ended = Flag()
        var timer: RealtimeTimer? = try RealtimeTimer(deadline: Date().addingTimeInterval(3600)) { body in
            detachThread {
                body()
                ended.set()
            }
        }
        _ = timer
        timer = nil
        try await eventually("the timer thread to end") { ended.isSet }
    }

    @Test("a task cancelled before it waits does not wait")
    func cancelledBeforeWaiting() async throws {
        let timer = try RealtimeTimer(deadline: Date().addingTimeInterval(3600))
        let waiting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await timer.wait()
        }
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test("reads of the descriptor: expiry, clock change, nothing yet, failure")
    func interpretingReads() throws {
        #expect(try RealtimeTimer.interpretRead(byteCount: 8, errno: 0) == .deadlineReached)
        #expect(try RealtimeTimer.interpretRead(byteCount: -1, errno: ECANCELED) == .clockChanged)
        #expect(try RealtimeTimer.interpretRead(byteCount: -1, errno: EAGAIN) == nil)
        #expect(try RealtimeTimer.interpretRead(byteCount: -1, errno: EINTR) == nil)
        #expect(throws: RealtimeTimerError(call: "read(timerfd)", errno: EBADF)) {
            try RealtimeTimer.interpretRead(byteCount: -1, errno: EBADF)
        }
        #expect(throws: RealtimeTimerError(call: "read(timerfd)", errno: EIO)) {
            try RealtimeTimer.interpretRead(byteCount: 3, errno: 0)
        }
    }

    @Test("an error names the call and the reason")
    func errorDescription() {
        #expect("\(RealtimeTimerError(call: "timerfd_create", errno: EMFILE))" == "timerfd_create failed: Too many open files")
    }
}

@Suite("System wall clock", .timeLimit(.minutes(1)))
struct SystemWallClockTests {
    @Test("sleeps until the deadline on the kernel timer")
    func sleepsUntilDeadline() async throws {
        let clock = SystemWallClock()
        let deadline = clock.now().addingTimeInterval(0.05)
        try await clock.sleep(until: deadline)
        #expect(clock.now() >= deadline)
    }

    @Test("without a kernel timer it falls back to a bounded sleep")
    func fallbackWhenArmingFails() async throws {
        let clock = SystemWallClock { _ throws(RealtimeTimerError) in
            throw RealtimeTimerError(call: "timerfd_create", errno: EMFILE)
        }
        let deadline = clock.now().addingTimeInterval(0.05)
        try await clock.sleep(until: deadline)
        #expect(clock.now() >= deadline.addingTimeInterval(-0.001))
        let cancelled = Task { try await clock.sleep(until: clock.now().addingTimeInterval(3600)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }
}
