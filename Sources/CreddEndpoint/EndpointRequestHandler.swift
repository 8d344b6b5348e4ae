import Logging
import NIOCore
import NIOHTTP1

/// Answers a connection's requests on its event loop, behind NIO's HTTP/1.1 server pipeline: the
/// router's checks and the credentials are all in memory, so a response is one synchronous step.
///
/// Requests are answered at their head (the API has no bodies; a request that announces one is
/// refused and the connection closed). NIO's pipelining handler passes on one request at a time
/// and stops reading until its answer is written; a request that arrives while the client leaves
/// earlier answers unread waits here until the connection is writable again, so a client that
/// pipelines without reading cannot make credd buffer without bound.
final class EndpointRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: EndpointRouter
    private let timeouts: ConnectionTimeoutHandler
    private let logger: Logger
    /// A request to answer once the client has read the earlier answers.
    private var waiting: HTTPRequestHead?
    /// Set once a response closes the connection: later requests are ignored.
    private var closing = false

    init(router: EndpointRouter, timeouts: ConnectionTimeoutHandler, logger: Logger) {
        self.router = router
        self.timeouts = timeouts
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, case .head(let head) = unwrapInboundIn(data) else { return }
        timeouts.requestReceived()
        if context.channel.isWritable {
            respond(to: head, context: context)
        } else {
            waiting = head
            timeouts.responseBlocked()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let head = waiting {
            waiting = nil
            timeouts.responseUnblocked()
            respond(to: head, context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, !closing else {
            // A client that vanishes mid-request is routine; the error text names no secret.
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        // Tell the client once, then hang up: nothing after a malformed head can be trusted. The
        // parser's error names the rule broken, never the bytes (which may hold a token).
        let response = parseError == .headerOverflow ? Self.headTooLarge : Self.malformedRequest
        logger.debug("refused a malformed request", metadata: ["credd.refusal": "\(response.refusal ?? "")", "reason": "\(parseError)"])
        write(response, version: .http1_1, includeBody: true, context: context)
    }

    private static let malformedRequest = EndpointResponse.error(
        .badRequest, code: "BadRequest", message: "malformed HTTP/1.1 request", refusal: "malformed", closesConnection: true)
    private static let headTooLarge = EndpointResponse.error(
        .init(statusCode: 431), code: "RequestHeaderFieldsTooLarge", message: "the request line and headers are too large",
        refusal: "head-size", closesConnection: true)

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        var response = router.respond(to: head)
        log(response, for: head)
        response.closesConnection = response.closesConnection || !head.isKeepAlive
        write(response, version: head.version, includeBody: head.method != .HEAD, context: context)
    }

    private func write(_ response: EndpointResponse, version: HTTPVersion, includeBody: Bool, context: ChannelHandlerContext) {
        closing = response.closesConnection
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + response.extraHeaders.count)
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        for header in response.extraHeaders {
            headers.add(name: header.name, value: header.value)
        }
        if closing {
            headers.add(name: "Connection", value: "close")
        } else if version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        if includeBody {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
        }
        // Before the end is written: writing it hands over the next pipelined request.
        timeouts.responseSent()
        if closing {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func log(_ response: EndpointResponse, for head: HTTPRequestHead) {
        // The served path is the hot one: build its metadata only when debug lines are kept.
        if response.refusal == nil, logger.logLevel > .debug { return }
        var metadata: Logger.Metadata = [
            "http.method": "\(head.method.rawValue.prefix(16))",
            "http.route": "\(response.route.rawValue)",
            "http.status": "\(response.status.code)",
        ]
        if let profile = response.profile { metadata["credd.profile"] = "\(profile)" }
        switch response.refusal {
        case nil:
            logger.debug("served a request", metadata: metadata)
        case "host", "browser", "forwarded":
            metadata["credd.refusal"] = "\(response.refusal ?? "")"
            logger.notice("refused a request", metadata: metadata)
        case "unavailable":
            logger.info("no valid credentials to serve", metadata: metadata)
        case let refusal?:
            metadata["credd.refusal"] = "\(refusal)"
            logger.debug("refused a request", metadata: metadata)
        }
    }
}
