import Glibc
import NIOCore

/// On each listening channel, ahead of NIO's accept handler: settles the user behind each accepted
/// connection from the kernel's socket table before its channel is set up, and closes other
/// users' connections at once, with a reset. Refusing costs one lookup and one close on the
/// listener's event loop, so a flood of them leaves the served user's connections their turn.
final class PeerGate: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// Why a connection is refused, or `nil` to pass it on.
    private let refusal: (any Channel) -> ConnectionRefusal?
    private let refused: (ConnectionRefusal) -> Void

    init(refusal: @escaping (any Channel) -> ConnectionRefusal?, refused: @escaping (ConnectionRefusal) -> Void) {
        self.refusal = refusal
        self.refused = refused
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        guard let refusal = refusal(connection) else {
            context.fireChannelRead(data)
            return
        }
        // A reset, not a close: no TIME_WAIT state kept for a flood of refused connections.
        _ = (connection as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        connection.close(promise: nil)
        refused(refusal)
    }
}
