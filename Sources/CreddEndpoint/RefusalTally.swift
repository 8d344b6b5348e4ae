/// Why a connection was closed as soon as it was accepted, or not accepted at all.
enum ConnectionRefusal: Sendable, Hashable {
    /// Another user's process.
    case otherUser(uid: UInt32)
    /// The kernel lists no such client socket (it closed, or it lives in another network namespace).
    case noSocketEntry
    /// The kernel could not be asked; the text says why.
    case lookupFailed(String)
    /// Not a connection: accepting paused for want of descriptors or memory; the text says which.
    case acceptPaused(String)
}

/// Counts refused connections so that they are logged as one summary line per reason and
/// interval, never one line per connection: other users must not be able to flood the journal.
struct RefusalTally: Sendable {
    private(set) var counts: [ConnectionRefusal: Int] = [:]

    /// Counts one refusal; true when it is the first since the last `drain()`, so the caller
    /// schedules the next summary.
    mutating func record(_ refusal: ConnectionRefusal) -> Bool {
        let first = counts.isEmpty
        counts[refusal, default: 0] += 1
        return first
    }

    /// The counts since the last drain, most frequent first, and a fresh start.
    mutating func drain() -> [(refusal: ConnectionRefusal, count: Int)] {
        defer { counts = [:] }
        return counts.map { (refusal: $0.key, count: $0.value) }.sorted { $0.count > $1.count }
    }
}
