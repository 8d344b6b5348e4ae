import CreddPlatform
import CreddTestSupport
import Foundation
import Testing

@Suite("Serial blocking work", .timeLimit(.minutes(1)))
struct SerialBlockingWorkTests {
    @Test("runs one item at a time, in order, on NIO's thread pool")
    func serial() async throws {
        let worker = SerialBlockingWork()
        let log = Recorder<String>()
        let first = Task {
            await worker.run {
                log.append("1 starts on \(currentThreadName())")
                usleep(50_000)
                log.append("1 ends")
            }
        }
        try await eventually("the first item to start") { !log.all.isEmpty }
        await worker.run { log.append("2 starts") }
        await first.value
        #expect(log.all == ["1 starts on TP-#0", "1 ends", "2 starts"])
    }

    @Test("returns the work's result")
    func result() async {
        let worker = SerialBlockingWork()
        #expect(await worker.run { 42 } == 42)
    }
}
