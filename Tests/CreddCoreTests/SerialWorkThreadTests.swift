import Foundation
import Testing

@testable import CreddCore

@Suite("Serial work thread", .timeLimit(.minutes(1)))
struct SerialWorkThreadTests {
    @Test("runs one item at a time, in order, on a thread of its own")
    func serial() async throws {
        let worker = SerialWorkThread()
        let log = Recorder<String>()
        let first = Task {
            await worker.run {
                log.append("1 starts on \(currentThreadName())")
                usleep(50_000)
                log.append("1 ends")
            }
        }
        #expect(try await eventually { !log.all.isEmpty })
        await worker.run { log.append("2 starts") }
        await first.value
        #expect(log.all == ["1 starts on credd-blocking", "1 ends", "2 starts"])
    }

    @Test("without a thread, the caller runs the work, still in order")
    func noThread() async {
        let worker = SerialWorkThread(startThread: { _ in false })
        #expect(await worker.run { currentThreadName() } != "credd-blocking")
        #expect(await worker.run { 42 } == 42)
    }
}
