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
        self.timeouts = ConnectionTimeouts(
            requestTimeout: TimeAmount(limits.requestTimeout), idleTimeout: TimeAmount(limits.idleTimeout), acceptedAt: .now())
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
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
        timeouts.bytesReceived(at: .now())
        rearm()
        context.fireChannelRead(data)
    }

    func requestReceived() {
        timeouts.requestReceived()
    }

    func responseBlocked() {
        timeouts.responseBlocked(at: .now())
        rearm()
    }

    func responseUnblocked() {
        timeouts.responseUnblocked()
    }

    /// Call before writing a response's end: writing it may deliver the next pipelined request.
    func responseSent() {
        timeouts.responseSent(at: .now())
        rearm()
    }

    private func rearm() {
        guard let context, let deadline = timeouts.deadline else { return }
        if let timer, timer.firesAt <= deadline { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            if timeouts.hasExpired(at: .now()) {
                context.channel.close(promise: nil)
            } else {
                rearm()
            }
        }
        timer = (task, deadline)
    }
}
