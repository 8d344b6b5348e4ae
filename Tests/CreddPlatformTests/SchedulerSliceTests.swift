import Foundation
import Glibc
import Testing

@testable import CreddPlatform

@Suite("Scheduler slice")
struct SchedulerSliceTests {
    /// Linux's SCHED_BATCH, which glibc declares only under _GNU_SOURCE.
    static let schedBatch: Int32 = 3

    struct Outcome: Sendable {
        let accepted: Bool
        let policy: Int32
        let nice: Int32
        /// `se.slice` from `/proc/thread-self/sched`, in nanoseconds; nil where the kernel does not show it.
        let slice: Int?
    }

    /// Runs `prepare` and then `requestShortSchedulerSlice` on a thread of its own, whose
    /// scheduling the test may change freely.
    private func onFreshThread(_ prepare: @escaping @Sendable () -> Void) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let started = detachThread {
                prepare()
                let accepted = requestShortSchedulerSlice(.microseconds(200))
                let sched = (try? String(contentsOfFile: "/proc/thread-self/sched", encoding: .utf8)) ?? ""
                let slice = sched.split(separator: "\n").first { $0.hasPrefix("se.slice ") }
                    .flatMap { $0.split(separator: ":").last }
                    .flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                continuation.resume(returning: Outcome(
                    accepted: accepted, policy: sched_getscheduler(0),
                    nice: getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), slice: slice))
            }
            if !started { continuation.resume(throwing: CocoaError(.featureUnsupported)) }
        }
    }

    @Test("a thread gets the slice it asks for and keeps its nice value")
    func shortSliceKeepsNice() async throws {
        let outcome = try await onFreshThread { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 3) }
        #expect(outcome.accepted)
        #expect(outcome.policy == SCHED_OTHER)
        #expect(outcome.nice == 3)
        // Kernels before EEVDF's custom slices (6.12) show no se.slice, or ignore the request.
        if let slice = outcome.slice, ProcessInfo.processInfo.operatingSystemVersion.majorVersion > 6
            || ProcessInfo.processInfo.operatingSystemVersion.majorVersion == 6 && ProcessInfo.processInfo.operatingSystemVersion.minorVersion >= 12
        {
            #expect(slice == 200_000)
        }
    }

    @Test("a thread someone put on batch scheduling is left alone")
    func batchThreadIsLeftAlone() async throws {
        let outcome = try await onFreshThread {
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(0, Self.schedBatch, &parameters)
        }
        #expect(!outcome.accepted)
        #expect(outcome.policy == Self.schedBatch)
    }
}
