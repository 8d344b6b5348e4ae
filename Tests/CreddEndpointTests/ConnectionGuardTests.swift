import NIOCore
import NIOEmbedded
import Testing

@testable import CreddEndpoint

/// The guard's framing in a pipeline: what reaches the request handler, read by read.
struct ConnectionGuardTests {
    private func connectedChannel(maxHeaderBytes: Int = 8192) throws -> EmbeddedChannel {
        var limits = EndpointConfiguration.Limits()
        limits.maxHeaderBytes = maxHeaderBytes
        let channel = EmbeddedChannel(handler: ConnectionGuardHandler(limits: limits, registry: ConnectionRegistry(capacity: 4)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    private func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    /// The heads passed on so far, as text.
    private func forwardedHeads(_ channel: EmbeddedChannel) throws -> [String] {
        var heads: [String] = []
        while let head = try channel.readInbound(as: ByteBuffer.self) {
            heads.append(String(buffer: head))
        }
        return heads
    }

    private let head = "GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    @Test func aHeadDribbledByteByByteIsPassedOnWhole() throws {
        let channel = try connectedChannel()
        for byte in head {
            try send(String(byte), to: channel)
        }
        #expect(try forwardedHeads(channel) == [head])
        _ = try channel.finish()
    }

    @Test func pipelinedHeadsArePassedOnOneByOne() throws {
        let channel = try connectedChannel()
        let split = head.index(head.startIndex, offsetBy: 10)
        try send(head + head + String(head[..<split]), to: channel)
        #expect(try forwardedHeads(channel) == [head, head])
        try send(String(head[split...]) + head, to: channel)
        #expect(try forwardedHeads(channel) == [head, head])
        _ = try channel.finish()
    }

    @Test func emptyLinesBetweenRequestsAreNotKept() throws {
        let channel = try connectedChannel(maxHeaderBytes: 64)
        // Far beyond the head limit, but empty lines are not a head and cost no memory.
        for _ in 0..<100 {
            try send(String(repeating: "\r\n", count: 100), to: channel)
        }
        try send(head, to: channel)
        #expect(try forwardedHeads(channel) == [head])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test func aPartialHeadKeepsOnlyItsOwnBytes() throws {
        let channel = try connectedChannel(maxHeaderBytes: 64)
        let split = head.index(head.startIndex, offsetBy: 10)
        try send(String(repeating: "\r\n", count: 1000) + String(head[..<split]), to: channel)
        #expect(try forwardedHeads(channel).isEmpty)
        try send(String(head[split...]), to: channel)
        #expect(try forwardedHeads(channel) == [head])
        _ = try channel.finish()
    }

    @Test func aHeadWithAControlByteIsPassedOnWithoutWaitingForItsEnd() throws {
        let channel = try connectedChannel()
        try send("GET /v1/cred\u{1}entials/dev HTTP/1.1\r\nHo", to: channel)
        #expect(try forwardedHeads(channel) == ["GET /v1/cred\u{1}"])
        _ = try channel.finish()
    }

    @Test func anOversizeHeadIsAnswered431AndNothingIsPassedOn() throws {
        let channel = try connectedChannel(maxHeaderBytes: 64)
        try send("GET / HTTP/1.1\r\n", to: channel)
        try send("X-Junk: " + String(repeating: "j", count: 100) + "\r\n\r\n" + head, to: channel)
        #expect(try forwardedHeads(channel).isEmpty)
        let response = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: response).hasPrefix("HTTP/1.1 431 "))
        #expect(!channel.isActive)
    }
}
