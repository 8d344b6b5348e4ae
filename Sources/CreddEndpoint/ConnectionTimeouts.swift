import NIOCore

/// When a connection is closed for want of a request, as a value: the connection's events go in,
/// the deadline to close it at comes out. No timer runs while a request is answered, so a busy
/// daemon never cuts off a response.
///
/// - A new connection, and one whose next request has begun to arrive, has the request timeout to
///   deliver a whole request head.
/// - Between requests the idle timeout runs.
/// - A response that waits because the client does not read what it was sent has the idle timeout
///   for the client to make room.
struct ConnectionTimeouts: Sendable, Hashable {
    enum State: Sendable, Hashable {
        /// Nothing of a next request has arrived.
        case idle(until: NIODeadline)
        /// Part of a request head has arrived (or the connection is new).
        case readingRequest(until: NIODeadline)
        /// A request is being answered; `bytesSince` tells whether more bytes arrived meanwhile.
        case answering(bytesSince: Bool)
        /// A response waits until the client reads the ones before it.
        case blockedOnClient(until: NIODeadline, bytesSince: Bool)
    }

    let requestTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private(set) var state: State

    /// A connection accepted at `now`.
    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount, acceptedAt now: NIODeadline) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.state = .readingRequest(until: now + requestTimeout)
    }

    /// When the connection is to be closed unless something happens first; `nil` while answering.
    var deadline: NIODeadline? {
        switch state {
        case .idle(let until), .readingRequest(let until), .blockedOnClient(let until, _): until
        case .answering: nil
        }
    }

    /// Whether the connection has run out of time at `now`.
    func hasExpired(at now: NIODeadline) -> Bool {
        deadline.map { $0 <= now } ?? false
    }

    mutating func bytesReceived(at now: NIODeadline) {
        switch state {
        case .idle:
            state = .readingRequest(until: now + requestTimeout)
        case .readingRequest:
            break
        case .answering:
            state = .answering(bytesSince: true)
        case .blockedOnClient(let until, _):
            state = .blockedOnClient(until: until, bytesSince: true)
        }
    }

    mutating func requestReceived() {
        state = .answering(bytesSince: false)
    }

    /// The response could not be written because the client's receive window and our write
    /// buffer are full.
    mutating func responseBlocked(at now: NIODeadline) {
        switch state {
        case .answering(let bytesSince):
            state = .blockedOnClient(until: now + idleTimeout, bytesSince: bytesSince)
        case .idle, .readingRequest, .blockedOnClient:
            break
        }
    }

    mutating func responseUnblocked() {
        if case .blockedOnClient(_, let bytesSince) = state {
            state = .answering(bytesSince: bytesSince)
        }
    }

    mutating func responseSent(at now: NIODeadline) {
        switch state {
        case .answering(let bytesSince), .blockedOnClient(_, let bytesSince):
            state = bytesSince ? .readingRequest(until: now + requestTimeout) : .idle(until: now + idleTimeout)
        case .idle, .readingRequest:
            break
        }
    }
}
