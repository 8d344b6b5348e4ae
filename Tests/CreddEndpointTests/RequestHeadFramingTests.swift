import Testing

@testable import CreddEndpoint

struct RequestHeadFramingTests {
    @Test func completeHeadReturnsToAwaitingRequest() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(framing.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 1))
    }

    @Test func partialHeadIsReadingHead() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(framing.receive(Array("GET / HTTP/1.1\r\nHo".utf8)) == .accepted(phase: .readingHead, completedHeads: 0))
        #expect(framing.receive(Array("st: x\r\n\r".utf8)) == .accepted(phase: .readingHead, completedHeads: 0))
        #expect(framing.receive(Array("\n".utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 1))
    }

    @Test func pipelinedHeadsAreCountedSeparately() {
        var framing = RequestHeadFraming(maxHeadBytes: 30)
        let one = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(framing.receive(Array((one + one + one).utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 3))
    }

    @Test func bareLineFeedsEndAHead() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(framing.receive(Array("GET / HTTP/1.1\nHost: x\n\n".utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 1))
    }

    @Test func leadingEmptyLinesAreNotRequests() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(framing.receive(Array("\r\n\r\n\r\n".utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 0))
    }

    @Test func oversizeHeadIsRefusedEvenWhenDribbled() {
        var framing = RequestHeadFraming(maxHeadBytes: 64)
        var outcome = RequestHeadFraming.Outcome.accepted(phase: .awaitingRequest, completedHeads: 0)
        for _ in 0..<100 where outcome != .headTooLarge {
            outcome = framing.receive(Array("X-A: b\r\n".utf8))
        }
        #expect(outcome == .headTooLarge)
    }

    @Test func headOfExactlyTheLimitIsAccepted() {
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        // The final line feed ends the head and is not counted.
        var framing = RequestHeadFraming(maxHeadBytes: head.utf8.count - 1)
        #expect(framing.receive(Array(head.utf8)) == .accepted(phase: .awaitingRequest, completedHeads: 1))
        var tight = RequestHeadFraming(maxHeadBytes: head.utf8.count - 2)
        #expect(tight.receive(Array(head.utf8)) == .headTooLarge)
    }
}
