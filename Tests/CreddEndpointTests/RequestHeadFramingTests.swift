import Testing

@testable import CreddEndpoint

struct RequestHeadFramingTests {
    /// Scans `text` to its end, as the connection guard does, and returns every outcome.
    private func scanAll(_ framing: inout RequestHeadFraming, _ text: String) -> [RequestHeadFraming.Outcome] {
        Array(text.utf8).withUnsafeBytes { bytes in
            var outcomes: [RequestHeadFraming.Outcome] = []
            var start = 0
            while true {
                let outcome = framing.scan(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                outcomes.append(outcome)
                guard case .headEnded(let length) = outcome, start + length < bytes.count else { return outcomes }
                start += length
            }
        }
    }

    @Test func completeHeadEndsAtItsEmptyLine() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(scanAll(&framing, head) == [.headEnded(length: head.utf8.count)])
        #expect(framing.phase == .awaitingRequest)
    }

    @Test func partialHeadNeedsMore() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(scanAll(&framing, "GET / HTTP/1.1\r\nHo") == [.needsMore(phase: .readingHead)])
        #expect(scanAll(&framing, "st: x\r\n\r") == [.needsMore(phase: .readingHead)])
        #expect(scanAll(&framing, "\n") == [.headEnded(length: 1)])
    }

    @Test func pipelinedHeadsEndOneAtATime() {
        var framing = RequestHeadFraming(maxHeadBytes: 30)
        let one = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        let length = one.utf8.count
        #expect(scanAll(&framing, one + one + one + "GET") == [.headEnded(length: length), .headEnded(length: length), .headEnded(length: length), .needsMore(phase: .readingHead)])
    }

    @Test func bareLineFeedsEndAHead() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(scanAll(&framing, "GET / HTTP/1.1\nHost: x\n\n") == [.headEnded(length: 24)])
    }

    @Test func leadingEmptyLinesAreNotRequests() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(scanAll(&framing, "\r\n\r\n\r\n") == [.needsMore(phase: .awaitingRequest)])
        // They belong to the head that follows them.
        #expect(scanAll(&framing, "\r\nGET / HTTP/1.1\r\n\r\n") == [.headEnded(length: 20)])
    }

    @Test(arguments: [
        ("GET /\u{0} HTTP/1.1\r\n\r\n", 6),
        ("G\u{E9}T / HTTP/1.1\r\n\r\n", 2),
        ("GET / HTTP/1.1\r\nX-\u{E9}: a\r\n\r\n", 19),
        ("GET / HTTP/1.1\r\nX-A: a\u{7F}\r\n\r\n", 23),
        ("\u{1B}", 1),
    ])
    func aByteNoHeadMayHoldThereEndsTheHeadAtOnce(text: String, length: Int) {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        #expect(scanAll(&framing, text).first == .headEnded(length: length))
    }

    @Test func fieldValuesMayHoldNonASCIIAndTabs() {
        var framing = RequestHeadFraming(maxHeadBytes: 100)
        let head = "GET /a:b HTTP/1.1\r\nX-A: caf\u{E9}\t:\u{FF}\r\n\r\n"
        #expect(scanAll(&framing, head) == [.headEnded(length: head.utf8.count)])
    }

    @Test func oversizeHeadIsRefusedEvenWhenDribbled() {
        var framing = RequestHeadFraming(maxHeadBytes: 64)
        var outcomes: [RequestHeadFraming.Outcome] = []
        for _ in 0..<100 where outcomes.last != .headTooLarge {
            outcomes += scanAll(&framing, "X-A: b\r\n")
        }
        #expect(outcomes.last == .headTooLarge)
    }

    @Test func headOfExactlyTheLimitIsAccepted() {
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        // The final line feed ends the head and is not counted.
        var framing = RequestHeadFraming(maxHeadBytes: head.utf8.count - 1)
        #expect(scanAll(&framing, head) == [.headEnded(length: head.utf8.count)])
        var tight = RequestHeadFraming(maxHeadBytes: head.utf8.count - 2)
        #expect(scanAll(&tight, head) == [.headTooLarge])
    }
}
