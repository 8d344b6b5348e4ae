/// Who is at the other end of a connection, as far as the kernel's socket table tells.
enum PeerVerdict: Sendable, Hashable {
    /// The user the endpoint serves.
    case servedUser
    /// Another user's process: refused.
    case otherUser(uid: UInt32)
    /// The lookup failed or found nothing: refused, since the endpoint fails closed.
    case unknown
}
