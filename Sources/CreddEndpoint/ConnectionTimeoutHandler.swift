import NIOCore

/// First handler of every connection: feeds the connection's events to `ConnectionTimeouts`
/// (bytes as they arrive; requests and responses from `EndpointRequestHandler`), closes the
/// connection when its deadline passes, and reports activity to the registry.
final class ConnectionTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var timeouts: ConnectionTimeouts
    private let registry: ConnectionRegistry
    private var context: ChannelHandlerContext?
    /// The one timer, which fires no later than the deadline and then re-checks it: moving the
    /// deadline later (every response does) needs no new timer.
    private var timer: (task: Scheduled<Void>, firesAt: NIODeadline)?

    init(limits: EndpointConfiguration.Limits, registry: ConnectionRegistry) {
        // Restarted from the event loop's clock when the handler is added.
        self.timeouts = ConnectionTimeouts(
            requestTimeout: TimeAmount(limits.requestTimeout), idleTimeout: TimeAmount(limits.idleTimeout), acceptedAt: .uptimeNanoseconds(0))
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        timeouts = ConnectionTimeouts(requestTimeout: timeouts.requestTimeout, idleTimeout: timeouts.idleTimeout, acceptedAt: context.eventLoop.now)
        rearm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.task.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        registry.recordActivity(context.channel)
        timeouts.bytesReceived(at: context.eventLoop.now)
        rearm()
        context.fireChannelRead(data)
    }

    func requestReceived() {
        timeouts.requestReceived()
    }

    func responseBlocked() {
        guard let context else { return }
        timeouts.responseBlocked(at: context.eventLoop.now)
        rearm()
    }

    func responseUnblocked() {
        timeouts.responseUnblocked()
    }

    /// Call before writing a response's end: writing it may deliver the next pipelined request.
    func responseSent() {
        guard let context else { return }
        timeouts.responseSent(at: context.eventLoop.now)
        rearm()
    }

    private func rearm() {
        guard let context, let deadline = timeouts.deadline else { return }
        if let timer, timer.firesAt <= deadline { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            if timeouts.hasExpired(at: context.eventLoop.now) {
                context.channel.close(promise: nil)
            } else {
                rearm()
            }
        }
        timer = (task, deadline)
    }
}
