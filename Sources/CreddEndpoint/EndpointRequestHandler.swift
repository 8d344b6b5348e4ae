import Logging
import NIOCore
import NIOHTTP1

/// Answers a connection's requests on its event loop: the router's checks and the credentials
/// are all in memory, so a response is one synchronous step and one write-and-flush of its bytes
/// (rendered here, or ahead of time for served credentials), with no HTTP encoder in between.
final class EndpointRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: EndpointRouter
    private let connectionGuard: ConnectionGuardHandler
    private let verifyPeer: (any Channel) -> PeerVerdict
    private let logger: Logger
    /// The peer's user, looked up once per connection on its first request.
    private var peer: PeerVerdict?
    /// Set once a response closes the connection: later requests are ignored.
    private var closing = false

    init(router: EndpointRouter, connectionGuard: ConnectionGuardHandler, logger: Logger, verifyPeer: @escaping (any Channel) -> PeerVerdict) {
        self.router = router
        self.connectionGuard = connectionGuard
        self.logger = logger
        self.verifyPeer = verifyPeer
    }

    /// Each read is one whole request head, cut out by the connection guard.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data).withUnsafeReadableBytes(RequestHeadParser.parse) {
        case .success(let head):
            respond(to: head, context: context)
        case .failure(let malformed):
            // Tell the client once, then hang up: nothing after a malformed head can be trusted.
            logger.debug("refused a malformed request", metadata: ["credd.refusal": "malformed", "reason": "\(malformed.reason)"])
            closing = true
            var buffer = context.channel.allocator.buffer(capacity: 0)
            Self.malformedRequest.write(to: &buffer, version: .http1_1, closing: true, includeBody: true)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that vanishes mid-request is routine; the error text names no secret.
        logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private static let malformedRequest = EndpointResponse.error(.badRequest, code: "BadRequest", message: "malformed HTTP/1.1 request")

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let verdict = peer ?? verifyPeer(context.channel)
        peer = verdict
        let response = router.respond(to: head, peer: verdict)
        log(response, for: head, peer: verdict)
        closing = response.closesConnection || !head.isKeepAlive

        let bytes: ByteBuffer
        if let prerendered = response.prerendered, !closing, head.version == .http1_1, head.method == .GET {
            bytes = prerendered
        } else {
            var buffer = context.channel.allocator.buffer(capacity: 0)
            response.write(to: &buffer, version: head.version, closing: closing, includeBody: head.method != .HEAD)
            bytes = buffer
        }
        if closing {
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
        connectionGuard.responseCompleted()
    }

    private func log(_ response: EndpointResponse, for head: HTTPRequestHead, peer: PeerVerdict) {
        // The served path is the hot one: build its metadata only when debug lines are kept.
        if response.refusal == nil, logger.logLevel > .debug { return }
        var metadata: Logger.Metadata = [
            "http.method": "\(head.method.rawValue.prefix(16))",
            "http.route": "\(response.route.rawValue)",
            "http.status": "\(response.status.code)",
        ]
        if let profile = response.profile { metadata["credd.profile"] = "\(profile)" }
        switch (response.refusal, peer) {
        case (nil, _):
            logger.debug("served a request", metadata: metadata)
        case ("peer-user", .otherUser(let uid)):
            metadata["net.peer.uid"] = "\(uid)"
            logger.warning("refused a client running as another user", metadata: metadata)
        case ("peer-user", _), ("host", _), ("browser", _), ("forwarded", _):
            metadata["credd.refusal"] = "\(response.refusal ?? "")"
            logger.notice("refused a request", metadata: metadata)
        case ("unavailable", _):
            logger.info("no valid credentials to serve", metadata: metadata)
        case (let refusal?, _):
            metadata["credd.refusal"] = "\(refusal)"
            logger.debug("refused a request", metadata: metadata)
        }
    }
}
