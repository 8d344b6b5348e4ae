import CreddCore
import Dispatch
import Foundation
import FuzzSupport
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization

@testable import CreddEndpoint

/// libFuzzer's entry point. The first byte picks the peer (high bit: another user) and the size of
/// the reads the bytes arrive in (low bits + 1), so framing is exercised across read boundaries;
/// the rest is what a client sends on one connection, with `@TOKEN@` standing for a valid IMDS token.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEndpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let control = input.first else { return 0 }
    EndpointFuzzCase(
        peer: control & 0x80 == 0 ? .servedUser : .otherUser(uid: 65534),
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

    struct Clock: WallClock {
        func now() -> Date { FakeWorld.now }
    }

    struct Source: EndpointCredentialSource {
        func lookup(profile: String) async -> EndpointLookup {
            switch profile {
            case "dev": .available(FakeWorld.valid, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: FakeWorld.now)
            case "old": .available(FakeWorld.expired, roleArn: nil, lastUpdated: FakeWorld.now)
            case "mfa": .unavailable(reason: "needs MFA; run `credd login mfa`")
            default: .unknown
            }
        }
    }
}

/// One connection's worth of bytes through the endpoint's connection pipeline (head framing and
/// timeouts, NIO's HTTP/1.1 codec with its error handling, response completion) and its router,
/// answered the way `CredentialEndpoint` answers them.
struct EndpointFuzzCase {
    let peer: PeerVerdict
    let readSize: Int
    let stream: [UInt8]

    func run() {
        let tokens = IMDSTokenStore(capacity: 16, wallClock: FakeWorld.Clock())
        let imdsToken = tokens.issue(ttlSeconds: 600).revealed
        let router = EndpointRouter(
            imdsProfile: "dev", containerToken: FakeWorld.containerToken, tokens: tokens,
            source: FakeWorld.Source(), wallClock: FakeWorld.Clock()
        )
        let bytes = replacing(Array("@TOKEN@".utf8), with: Array(imdsToken.utf8), in: stream)
        let channel = EmbeddedChannel()
        let registry = ConnectionRegistry(capacity: 1)
        _ = registry.admit(channel)
        let connectionGuard = ConnectionGuardHandler(limits: FakeWorld.limits, registry: registry)
        do {
            // A connected channel is an active one: the guard and the codec act only then.
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9911)).wait()
            try channel.pipeline.syncOperations.addHandler(SocketWrites())
            try channel.pipeline.syncOperations.addHandler(connectionGuard)
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(ResponseCompletionHandler(connectionGuard: connectionGuard))
        } catch {
            return check(false, "cannot build the pipeline: \(error)")
        }
        var connection = Connection(channel: channel, router: router, peer: peer)
        var offset = 0
        while offset < bytes.count, channel.isActive {
            let end = min(offset + readSize, bytes.count)
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes[offset..<end]))
                connection.answerPendingRequests()
                // The codec holds a parse error back until earlier pipelined requests are answered.
                try channel.throwIfErrorCaught()
            } catch {
                // A parse error, answered 400 by the codec's error handler: the server's read loop
                // ends with it and closes the connection.
                connection.answerPendingRequests()
                channel.close(promise: nil)
            }
            offset = end
        }
        // Fire the request and idle timers: they may only close the connection.
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        var written: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            written += buffer.readableBytesView
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        checkWire(written, exchanges: connection.exchanges, imdsToken: imdsToken)
    }

    /// Every byte written is a well-formed response; the n-th answers the n-th request the router
    /// saw, except a last connection-level refusal (400 from the codec, 431 from the head limit);
    /// secrets appear only in answers to authorised credential requests.
    private func checkWire(_ written: [UInt8], exchanges: [Exchange], imdsToken: String) {
        let parsed = splitResponses(written) { index in index < exchanges.count && exchanges[index].head.method == .HEAD }
        guard case .success(var responses) = parsed else {
            return check(false, "malformed response stream: \(parsed)")
        }
        // Known and open (see BENCHMARKS.md, Fuzzing): after a parse error held back behind a
        // pipelined request, the embedded pipeline writes the codec's bodiless 400 twice.
        while responses.count >= 2, responses.suffix(2).allSatisfy({ $0.status == 400 && $0.body.isEmpty && $0.closesConnection }) {
            responses.removeLast()
        }
        for (index, response) in responses.enumerated() {
            check(response.version == "HTTP/1.1" || response.version == "HTTP/1.0", "response \(index) has version \(response.version.prefix(12))")
            check(!response.closesConnection || index == responses.count - 1, "response \(index) closes the connection, yet more follow")
            let text = String(decoding: response.raw, as: UTF8.self)
            check(!FakeWorld.neverServed.contains { text.contains($0) }, "response \(index) carries a secret that is never served")
            let isTokenGrant = index < exchanges.count && exchanges[index].head.method == .PUT && response.status == 200
            check(isTokenGrant || !text.contains(imdsToken), "response \(index) carries an IMDS token")
            let matched = index < exchanges.count && response.status == Int(exchanges[index].response.status.code)
                && (exchanges[index].head.method == .HEAD || response.body.elementsEqual(exchanges[index].response.body.utf8))
            if !matched {
                check(index == responses.count - 1 && response.closesConnection && [400, 431].contains(response.status),
                      "response \(index) (status \(response.status)) answers no request the router saw")
            }
            if FakeWorld.servedSecrets.contains(where: { text.contains($0) }) {
                check(matched && response.status == 200, "response \(index) carries credentials without being a 200 answer")
                check(mayServeCredentials(exchanges[index].head, imdsToken: imdsToken), "response \(index) served credentials to an unauthorised request")
            }
        }
    }

    /// When credentials may be served, stated independently of the router: the served user, a GET
    /// with one local Host, nothing a browser or proxy adds, no body, and the API's own token.
    private func mayServeCredentials(_ head: HTTPRequestHead, imdsToken: String) -> Bool {
        let headers = head.headers
        guard peer == .servedUser, head.method == .GET, headers["Host"].count == 1, RequestPolicy.isAllowedHost(headers["Host"][0]),
            headers["Origin"].isEmpty, headers["X-Forwarded-For"].isEmpty, headers["Forwarded"].isEmpty,
            !headers["Sec-Fetch-Site"].contains(where: { ["cross-site", "same-site"].contains($0.trimmingCharacters(in: .whitespaces).lowercased()) }),
            headers["Transfer-Encoding"].isEmpty, headers["Content-Length"].allSatisfy({ $0 == "0" })
        else { return false }
        if head.uri.hasPrefix(EndpointRouter.containerPrefix) { return headers["Authorization"] == [FakeWorld.containerToken.revealed] }
        if head.uri.hasPrefix(EndpointRouter.roleListPath) { return headers[EndpointRouter.tokenHeader] == [imdsToken] }
        return false
    }
}

/// Fails writes to a closed channel as a socket does; `EmbeddedChannel` would keep them.
final class SocketWrites: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard context.channel.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }
}

/// A request the router answered and what it answered.
struct Exchange {
    let head: HTTPRequestHead
    let response: EndpointResponse
}

/// The server side of one connection: reads request parts as `CredentialEndpoint` does and writes
/// each answer through the pipeline.
struct Connection {
    let channel: EmbeddedChannel
    let router: EndpointRouter
    let peer: PeerVerdict
    private(set) var exchanges: [Exchange] = []
    private var pending: HTTPRequestHead?
    private var closed = false

    init(channel: EmbeddedChannel, router: EndpointRouter, peer: PeerVerdict) {
        self.channel = channel
        self.router = router
        self.peer = peer
    }

    mutating func answerPendingRequests() {
        while !closed, let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                // Bodies are refused at once rather than read; others are answered at their end.
                guard EndpointRouter.declaresBody(head) else {
                    pending = head
                    continue
                }
                answer(head)
            case .body:
                continue
            case .end:
                guard let head = pending else { continue }
                pending = nil
                answer(head)
            }
        }
    }

    private mutating func answer(_ head: HTTPRequestHead) {
        let response = respondBlocking(head)
        exchanges.append(Exchange(head: head, response: response))
        let closing = response.closesConnection || !head.isKeepAlive
        for part in CredentialEndpoint.parts(of: response, answering: head, closing: closing) {
            channel.write(part, promise: nil)
        }
        channel.flush()
        if closing {
            closed = true
            channel.close(promise: nil)
        }
    }

    /// The router is async only because credential sources may be; the fake one never suspends.
    private func respondBlocking(_ head: HTTPRequestHead) -> EndpointResponse {
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        Task { [router, peer] in
            let response = await router.respond(to: head, peer: peer)
            box.response.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        guard let response = box.response.withLock({ $0 }) else {
            check(false, "the router gave no answer")
            return .error(.internalServerError, code: "None", message: "")
        }
        return response
    }
}

/// Hands the router's answer from its task back to the fuzzer's thread.
final class ResponseBox: Sendable {
    let response = Mutex<EndpointResponse?>(nil)
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
