import NIOCore
import NIOHTTP1

/// First handler of every connection: sees the raw bytes before the HTTP parser, enforces the
/// head size limit (431) and the request and idle timeouts, and reports activity to the registry.
///
/// Timers: a request must arrive whole within the request timeout of its first byte (or of the
/// accept); between requests the idle timeout runs. No timer runs while a request is being
/// answered, so a busy daemon never cuts off a response; `responseCompleted()` restarts the clock.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let headTooLargeResponse: String = {
        let body = JSONText.object([
            (key: "Code", value: "RequestHeaderFieldsTooLarge"),
            (key: "Message", value: "the request line and headers are too large"),
        ])
        return "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    }()

    private var framing: RequestHeadFraming
    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let registry: ConnectionRegistry
    /// When the connection is closed unless something happens first; `nil` while a request is answered.
    private var deadline: NIODeadline?
    /// The one timer, which fires no later than `deadline` and then re-checks it: moving the
    /// deadline later (every response does) needs no new timer.
    private var timer: (task: Scheduled<Void>, firesAt: NIODeadline)?
    /// Kept for `responseCompleted()`, which the request handler further down the pipeline calls.
    private var context: ChannelHandlerContext?
    private var refused = false
    /// Requests whose head has arrived but whose response has not been written yet.
    private var unansweredRequests = 0

    init(limits: EndpointConfiguration.Limits, registry: ConnectionRegistry) {
        self.framing = RequestHeadFraming(maxHeadBytes: limits.maxHeaderBytes)
        self.requestTimeout = TimeAmount(limits.requestTimeout)
        self.idleTimeout = TimeAmount(limits.idleTimeout)
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // A new connection must start its request promptly.
        armTimeout(context: context, after: requestTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        stopTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let buffer = unwrapInboundIn(data)
        let before = framing.phase
        switch framing.receive(buffer.readableBytesView) {
        case .headTooLarge:
            refused = true
            cancelTimeout()
            let response = context.channel.allocator.buffer(string: Self.headTooLargeResponse)
            context.writeAndFlush(wrapOutboundOut(response)).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        case .accepted(let phase, let completedHeads):
            registry.recordActivity(context.channel)
            unansweredRequests += completedHeads
            if phase == .readingHead {
                if before != .readingHead || completedHeads > 0 { armTimeout(context: context, after: requestTimeout) }
            } else if completedHeads > 0 {
                cancelTimeout()
            }
            context.fireChannelRead(data)
        }
    }

    /// Called on the event loop when a response has been written in full.
    func responseCompleted() {
        unansweredRequests = max(0, unansweredRequests - 1)
        if unansweredRequests == 0 && framing.phase == .awaitingRequest, let context {
            armTimeout(context: context, after: idleTimeout)
        }
    }

    private func cancelTimeout() {
        deadline = nil
    }

    private func stopTimer() {
        deadline = nil
        timer?.task.cancel()
        timer = nil
    }

    private func armTimeout(context: ChannelHandlerContext, after amount: TimeAmount) {
        let newDeadline = NIODeadline.now() + amount
        deadline = newDeadline
        if let timer, timer.firesAt <= newDeadline { return }
        timer?.task.cancel()
        schedule(context: context, at: newDeadline)
    }

    private func schedule(context: ChannelHandlerContext, at firesAt: NIODeadline) {
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: firesAt) { [self] in
            timer = nil
            guard let deadline else { return }
            if deadline <= NIODeadline.now() {
                context.channel.close(promise: nil)
            } else {
                schedule(context: context, at: deadline)
            }
        }
        timer = (task, firesAt)
    }
}
