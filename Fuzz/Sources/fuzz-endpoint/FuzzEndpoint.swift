import CreddCore
import CreddTestSupport
import Foundation
import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import CreddEndpoint

/// libFuzzer's entry point. The first byte picks the size of the reads the bytes arrive in (low
/// seven bits + 1), so parsing is exercised across read boundaries; the rest is what a client of
/// the served user sends on one connection (other users' connections are closed before anything
/// is read), with `@TOKEN@` standing for a valid IMDS token.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEndpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let control = input.first else { return 0 }
    EndpointFuzzCase(
        readSize: Int(control & 0x7F) + 1,
        stream: Array(input.dropFirst())
    ).run()
    return 0
}

/// A fixed fake world: one profile with valid credentials, one expired, one waiting for MFA.
enum FakeWorld {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let containerToken = Secret("fuzz-container-token-EXAMPLE-0123456789abcdef")
    static let valid = AWSCredentials(
        accessKeyId: "ASIAFUZZVALIDEXAMPLE",
        secretAccessKey: Secret("fuzzValidSecretAccessKeyEXAMPLE0123456789"),
        sessionToken: Secret("fuzzValidSessionTokenEXAMPLE0123456789"),
        expiration: now.addingTimeInterval(3600)
    )
    static let expired = AWSCredentials(
        accessKeyId: "ASIAFUZZEXPIREDEXAMPLE",
        secretAccessKey: Secret("fuzzExpiredSecretAccessKeyEXAMPLE0123456789"),
        sessionToken: Secret("fuzzExpiredSessionTokenEXAMPLE0123456789"),
        expiration: now.addingTimeInterval(-1)
    )
    /// What only an authorised credential request may get back.
    static let servedSecrets = [valid.secretAccessKey.revealed, valid.sessionToken?.revealed ?? ""]
    /// What no response may ever carry.
    static let neverServed = [
        containerToken.revealed, expired.secretAccessKey.revealed, expired.sessionToken?.revealed ?? "",
    ]
    static let limits = EndpointConfiguration.Limits(maxHeaderBytes: 512)

    static let clock = ManualWallClock(now)

    struct Source: EndpointCredentialSource {
        func lookup(profile: String) -> EndpointLookup {
            switch profile {
            case "dev": .available(FakeWorld.valid, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: FakeWorld.now)
            case "old": .available(FakeWorld.expired, roleArn: nil, lastUpdated: FakeWorld.now)
            case "mfa": .unavailable(reason: "needs MFA; run `credd login mfa`")
            default: .unknown
            }
        }
    }
}

/// One connection's worth of bytes through the endpoint's connection pipeline
/// (`CredentialEndpoint.configureConnection`: timeouts, NIO's HTTP/1.1 server pipeline with its
/// limits, the request handler with its 400 and 431, and the router), on an `EmbeddedChannel`.
struct EndpointFuzzCase {
    let readSize: Int
    let stream: [UInt8]

    func run() {
        let tokens = IMDSTokenStore(capacity: 16, wallClock: FakeWorld.clock)
        let imdsToken = tokens.issue(ttlSeconds: 600).revealed
        let router = EndpointRouter(
            imdsProfile: "dev", containerToken: FakeWorld.containerToken, tokens: tokens,
            source: FakeWorld.Source(), wallClock: FakeWorld.clock
        )
        let bytes = replacing(Array("@TOKEN@".utf8), with: Array(imdsToken.utf8), in: stream)
        let channel = EmbeddedChannel()
        let registry = ConnectionRegistry(capacityPerUser: 1, totalCapacity: 1)
        _ = registry.admit(channel, uid: 0)
        do {
            // A connected channel is an active one, as an accepted socket is.
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9911)).wait()
            try channel.pipeline.syncOperations.addHandler(SocketWrites())
            try CredentialEndpoint.configureConnection(
                channel, limits: FakeWorld.limits, registry: registry, router: router,
                logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch {
            return check(false, "cannot build the pipeline: \(error)")
        }
        var offset = 0
        while offset < bytes.count, channel.isActive {
            let end = min(offset + readSize, bytes.count)
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes[offset..<end]))
                try channel.throwIfErrorCaught()
            } catch {
                // An error the pipeline did not handle: the connection closes, as on a socket.
                channel.close(promise: nil)
            }
            offset = end
        }
        // Fire the request and idle timers: they may only close the connection.
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        var written: [UInt8] = []
        while let data = try? channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { return check(false, "a response written from a file") }
            written += buffer.readableBytesView
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        checkWire(written, sent: bytes, imdsToken: imdsToken)
    }

    /// Everything written is well-formed HTTP/1.x responses, the last of them the only one that
    /// closes; secrets that are never served never appear; served ones only in 200s, to a stream
    /// that carried the right token; the IMDS token only in answer to a PUT.
    private func checkWire(_ written: [UInt8], sent: [UInt8], imdsToken: String) {
        // HEAD answers carry no body: in a stream that may hold a HEAD request, a response whose
        // head is followed by the next status line (or by nothing) is one. credd's bodies never
        // start with "HTTP/1.".
        let sentText = String(decoding: sent, as: UTF8.self)
        let mayHaveHead = sentText.contains("HEAD")
        let nextStatusLine = Array("HTTP/1.".utf8)
        let framing = splitResponses(written) { rest in mayHaveHead && (rest.isEmpty || rest.starts(with: nextStatusLine)) }
        guard case .success(let responses) = framing else {
            if mayHaveHead { return }  // framing without knowing which answers are to HEAD
            return check(false, "malformed response stream")
        }
        let carriesToken = sentText.contains(FakeWorld.containerToken.revealed) || sentText.contains(imdsToken)
        for (index, response) in responses.enumerated() {
            check(response.version == "HTTP/1.1" || response.version == "HTTP/1.0", "response \(index) has version \(response.version.prefix(12))")
            check(!response.closesConnection || index == responses.count - 1, "response \(index) closes the connection, yet more follow")
            let text = String(decoding: response.raw, as: UTF8.self)
            check(!FakeWorld.neverServed.contains { text.contains($0) }, "response \(index) carries a secret that is never served")
            // Echoing what the client itself sent (e.g. a profile name) is no leak: a `@TOKEN@`
            // anywhere but the token header puts the token in the request line or another header.
            check(
                sentText.contains("PUT") || !text.contains(imdsToken) || sentEchoable(sentText, token: imdsToken),
                "response \(index) carries an IMDS token the client neither asked for nor sent")
            if FakeWorld.servedSecrets.contains(where: { text.contains($0) }) {
                check(response.status == 200, "response \(index) carries credentials in a \(response.status)")
                check(carriesToken, "credentials served to a stream without a valid token")
            }
        }
    }
}

/// Whether the client sent `token` somewhere other than the IMDS token header, where a response
/// may legitimately repeat it (a requested profile name, say).
func sentEchoable(_ sent: String, token: String) -> Bool {
    sent.split(separator: "\n").contains { line in
        line.contains(token) && !line.lowercased().hasPrefix(EndpointRouter.tokenHeader.lowercased() + ":")
    }
}

/// Fails writes to a closed channel as a socket does; `EmbeddedChannel` would keep them.
final class SocketWrites: ChannelOutboundHandler {
    typealias OutboundIn = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard context.channel.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }
}

/// `haystack` with every `needle` replaced by `replacement`.
func replacing(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
    var result: [UInt8] = []
    var start = 0
    while let found = firstIndex(of: needle, in: haystack, from: start) {
        result += haystack[start..<found] + replacement
        start = found + needle.count
    }
    return result + haystack[start...]
}
