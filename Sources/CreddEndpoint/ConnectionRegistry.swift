import NIOCore
import Synchronization

/// The endpoint's open connections, capped: when full, the least recently active connection is
/// closed to admit a new one, so idle or stalled sockets cannot lock real clients out.
final class ConnectionRegistry: Sendable {
    enum Admission {
        case admitted
        /// Admitted after evicting this connection, which the caller closes.
        case admittedEvicting(any Channel)
        /// The endpoint is shutting down: the caller closes the new connection.
        case refused
    }

    private struct Entry {
        let channel: any Channel
        var lastActivity: UInt64
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// A counter rather than a clock: only the order of activity matters.
        var activityCounter: UInt64 = 0
        var closed = false
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0, "the endpoint must admit at least one connection")
        self.capacity = capacity
    }

    func admit(_ channel: any Channel) -> Admission {
        state.withLock { state in
            if state.closed { return .refused }
            var evicted: (any Channel)?
            if state.entries.count >= capacity,
                let oldest = state.entries.min(by: { $0.value.lastActivity < $1.value.lastActivity })
            {
                state.entries[oldest.key] = nil
                evicted = oldest.value.channel
            }
            state.activityCounter += 1
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActivity: state.activityCounter)
            return evicted.map { .admittedEvicting($0) } ?? .admitted
        }
    }

    func recordActivity(_ channel: any Channel) {
        state.withLock { state in
            state.activityCounter += 1
            state.entries[ObjectIdentifier(channel)]?.lastActivity = state.activityCounter
        }
    }

    /// Closes every connection and refuses new ones: the endpoint is stopping.
    func closeAll() {
        let channels = state.withLock { state in
            state.closed = true
            return state.entries.values.map(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    func remove(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
