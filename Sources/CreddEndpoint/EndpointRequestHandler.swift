import Logging
import NIOCore
import NIOHTTP1

/// Answers a connection's requests on its event loop: the router's checks and the credentials
/// are all in memory, so a response is one synchronous step and one write-and-flush.
final class EndpointRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: EndpointRouter
    private let connectionGuard: ConnectionGuardHandler
    private let verifyPeer: (any Channel) -> PeerVerdict
    private let logger: Logger
    /// The peer's user, looked up once per connection on its first request.
    private var peer: PeerVerdict?
    /// A head whose `.end` has not arrived yet: requests are answered at their end.
    private var pending: HTTPRequestHead?
    /// Set once a response closes the connection: later requests are ignored.
    private var closing = false

    init(router: EndpointRouter, connectionGuard: ConnectionGuardHandler, logger: Logger, verifyPeer: @escaping (any Channel) -> PeerVerdict) {
        self.router = router
        self.connectionGuard = connectionGuard
        self.logger = logger
        self.verifyPeer = verifyPeer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Bodies are refused at once rather than read.
            if EndpointRouter.declaresBody(head) {
                respond(to: head, context: context)
            } else {
                pending = head
            }
        case .body:
            break
        case .end:
            guard let head = pending else { return }
            pending = nil
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that vanishes mid-request is routine; the error text names no secret.
        logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let verdict = peer ?? verifyPeer(context.channel)
        peer = verdict
        let response = router.respond(to: head, peer: verdict)
        log(response, for: head, peer: verdict)
        closing = response.closesConnection || !head.isKeepAlive

        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + response.extraHeaders.count)
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        for header in response.extraHeaders {
            headers.add(name: header.name, value: header.value)
        }
        if closing {
            headers.add(name: "Connection", value: "close")
        } else if head.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
        }
        if closing {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
