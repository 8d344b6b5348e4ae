import NIOCore

/// First handler of every connection: cuts request heads out of the raw bytes and passes each on
/// whole, enforces the head size limit (431) and the request and idle timeouts, and reports
/// activity to the registry.
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
    /// The start of a head whose end has not arrived yet, at most the head limit.
    private var partialHead: ByteBuffer?
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
        var bytes = unwrapInboundIn(data)
        registry.recordActivity(context.channel)
        let before = framing.phase
        var completedHeads = 0
        while bytes.readableBytes > 0 {
            switch bytes.withUnsafeReadableBytes({ framing.scan($0) }) {
            case .headTooLarge:
                refuseOversizeHead(context: context)
                return
            case .headEnded(let length):
                guard var head = bytes.readSlice(length: length) else { return }
                if var partial = partialHead {
                    partial.writeBuffer(&head)
                    head = partial
                    partialHead = nil
                }
                completedHeads += 1
                unansweredRequests += 1
                // No timer runs while a request is answered; the answer restarts the clock.
                cancelTimeout()
                context.fireChannelRead(wrapInboundOut(head))
                guard context.channel.isActive else { return }
            case .needsMore(let phase):
                // Between requests only empty lines can have arrived: nothing to keep.
                if phase == .readingHead {
                    if partialHead == nil {
                        // The head's own bytes in a buffer of their own: neither the empty lines
                        // before it nor the whole receive buffer stay held while the rest arrives.
                        let emptyLines = bytes.readableBytesView.prefix { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }.count
                        bytes.moveReaderIndex(forwardBy: emptyLines)
                        partialHead = context.channel.allocator.buffer(capacity: bytes.readableBytes)
                    }
                    partialHead?.writeBuffer(&bytes)
                }
                bytes.moveReaderIndex(to: bytes.writerIndex)
            }
        }
        if framing.phase == .readingHead && (before != .readingHead || completedHeads > 0) {
            armTimeout(context: context, after: requestTimeout)
        }
    }

    private func refuseOversizeHead(context: ChannelHandlerContext) {
        refused = true
        partialHead = nil
        cancelTimeout()
        let response = context.channel.allocator.buffer(string: Self.headTooLargeResponse)
        context.writeAndFlush(wrapOutboundOut(response)).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
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
