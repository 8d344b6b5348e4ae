import NIOCore
import Synchronization

/// The endpoint's open connections, capped per user and in all: when a user is at its cap, that
/// user's least recently active connection is closed to admit its new one, so idle or stalled
/// sockets cannot lock real clients out, and no user's connections make room for another's.
final class ConnectionRegistry: Sendable {
    enum Admission {
        case admitted
        /// Admitted after evicting this connection, which the caller closes.
        case admittedEvicting(any Channel)
        /// The endpoint is stopping, or every slot is taken and none is the user's: the caller
        /// closes the new connection.
        case refused
    }

    private struct Entry {
        let channel: any Channel
        let uid: UInt32
        var lastActivity: UInt64
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var perUser: [UInt32: Int] = [:]
        /// A counter rather than a clock: only the order of activity matters.
        var activityCounter: UInt64 = 0
        var closed = false
    }

    private let capacityPerUser: Int
    private let totalCapacity: Int
    private let state = Mutex(State())

    /// - Parameter totalCapacity: what the descriptor limit leaves for connections.
    init(capacityPerUser: Int, totalCapacity: Int) {
        precondition(capacityPerUser > 0 && totalCapacity > 0, "the endpoint must admit at least one connection")
        self.capacityPerUser = capacityPerUser
        self.totalCapacity = totalCapacity
    }

    func admit(_ channel: any Channel, uid: UInt32) -> Admission {
        state.withLock { state in
            if state.closed { return .refused }
            let users = state.perUser[uid, default: 0]
            var evicted: (any Channel)?
            if users >= capacityPerUser || state.entries.count >= totalCapacity {
                guard users > 0,
                    let oldest = state.entries.filter({ $0.value.uid == uid }).min(by: { $0.value.lastActivity < $1.value.lastActivity })
                else { return .refused }
                state.entries[oldest.key] = nil
                state.perUser[uid, default: 0] -= 1
                evicted = oldest.value.channel
            }
            state.activityCounter += 1
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, uid: uid, lastActivity: state.activityCounter)
            state.perUser[uid, default: 0] += 1
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
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: ObjectIdentifier(channel)) else { return }
            state.perUser[entry.uid, default: 1] -= 1
        }
    }
}
