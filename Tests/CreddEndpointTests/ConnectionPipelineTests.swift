import CreddCore
import CreddPlatform
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import CreddEndpoint

/// A served connection's pipeline (`CredentialEndpoint.configureConnection`) on an
/// `EmbeddedChannel`, read by read.
struct ConnectionPipelineTests {
    let source = FakeCredentialSource([
        "dev": .available(FakeCredentials.make(expiration: Date().addingTimeInterval(3600)), roleArn: nil, lastUpdated: Date())
    ])

    func connection(maxHeaderBytes: Int = 8192) throws -> EmbeddedChannel {
        var limits = EndpointConfiguration.Limits()
        limits.maxHeaderBytes = maxHeaderBytes
        return try connection(limits: limits)
    }

    func connection(limits: EndpointConfiguration.Limits) throws -> EmbeddedChannel {
        let router = EndpointRouter(
            imdsProfile: "dev", containerToken: TestEndpoint.containerToken,
            tokens: IMDSTokenStore(capacity: 4, wallClock: SystemWallClock()), source: source, wallClock: SystemWallClock())
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        try CredentialEndpoint.configureConnection(
            channel, limits: limits, registry: ConnectionRegistry(capacityPerUser: 4, totalCapacity: 4), router: router,
            logger: Logger(label: "test"))
        return channel
    }

    let request = "GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(TestEndpoint.containerToken.revealed)\r\n\r\n"

    func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    /// The status codes written so far.
    func statuses(_ channel: EmbeddedChannel) throws -> [Int] {
        var written = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            written += String(buffer: buffer)
        }
        return written.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    @Test func aHeadDribbledByteByByteIsAnsweredOnce() throws {
        let channel = try connection()
        for byte in request {
            try send(String(byte), to: channel)
        }
        #expect(try statuses(channel) == [200])
        _ = try channel.finish()
    }

    @Test func anOversizeHeadIsAnswered431AndClosed() throws {
        let channel = try connection(maxHeaderBytes: 64)
        try send("GET / HTTP/1.1\r\n", to: channel)
        try? send("X-Junk: " + String(repeating: "j", count: 100) + "\r\n\r\n" + request, to: channel)
        #expect(try statuses(channel) == [431])
        #expect(!channel.isActive)
    }

    /// A client that sends requests without reading the answers: while the connection is not
    /// writable nothing more is answered (and NIO's pipelining handler stops reading), then the
    /// waiting requests are answered in order.
    @Test func requestsWaitWhileTheClientLeavesAnswersUnread() throws {
        let channel = try connection()
        try send(request, to: channel)
        #expect(try statuses(channel) == [200])
        channel.isWritable = false
        try send(request + request + request, to: channel)
        #expect(try statuses(channel) == [])
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(try statuses(channel) == [200, 200, 200])
        _ = try channel.finish()
    }
}

extension ConnectionPipelineTests {
    func connection(requestTimeout: Duration, idleTimeout: Duration) throws -> EmbeddedChannel {
        try connection(limits: EndpointConfiguration.Limits(requestTimeout: requestTimeout, idleTimeout: idleTimeout))
    }

    @Test func aStalledRequestIsClosedAtTheRequestTimeout() throws {
        let channel = try connection(requestTimeout: .seconds(5), idleTimeout: .seconds(60))
        try send("GET /v1/credentials/dev HTTP/1.1\r\nHo", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func anIdleConnectionIsClosedAtTheIdleTimeoutAfterItsLastAnswer() throws {
        let channel = try connection(requestTimeout: .seconds(5), idleTimeout: .seconds(30))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        try send(request, to: channel)
        #expect(try statuses(channel) == [200])
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive, "the request timeout no longer applies once answered")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func anAnswerTheClientNeverReadsIsGivenUpAtTheIdleTimeout() throws {
        let channel = try connection(requestTimeout: .seconds(5), idleTimeout: .seconds(30))
        channel.isWritable = false
        try send(request, to: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}
