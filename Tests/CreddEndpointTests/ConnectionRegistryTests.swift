import NIOCore
import NIOEmbedded
import Testing

@testable import CreddEndpoint

struct ConnectionRegistryTests {
    @Test func aUserAtItsCapEvictsItsOwnLeastRecentlyActiveConnection() {
        let registry = ConnectionRegistry(capacityPerUser: 2, totalCapacity: 10)
        let (first, second, third) = (EmbeddedChannel(), EmbeddedChannel(), EmbeddedChannel())
        #expect(registry.admit(first, uid: 1000).isPlain)
        #expect(registry.admit(second, uid: 1000).isPlain)
        registry.recordActivity(first)
        #expect(registry.admit(third, uid: 1000).evicted === second)
    }

    @Test func oneUsersConnectionsNeverMakeRoomForAnothers() {
        let registry = ConnectionRegistry(capacityPerUser: 2, totalCapacity: 3)
        let owner = EmbeddedChannel()
        #expect(registry.admit(owner, uid: 1000).isPlain)
        #expect(registry.admit(EmbeddedChannel(), uid: 2000).isPlain)
        #expect(registry.admit(EmbeddedChannel(), uid: 2000).isPlain)
        // The total is reached: the other user's next connection evicts only its own.
        let evicted = registry.admit(EmbeddedChannel(), uid: 2000).evicted
        #expect(evicted != nil && evicted !== owner)
        // A user with nothing open when the total is reached is refused, not admitted by eviction.
        guard case .refused = registry.admit(EmbeddedChannel(), uid: 3000) else {
            Issue.record("a third user took another's slot")
            return
        }
    }

    @Test func removedConnectionsFreeTheirSlots() {
        let registry = ConnectionRegistry(capacityPerUser: 1, totalCapacity: 1)
        let first = EmbeddedChannel()
        #expect(registry.admit(first, uid: 1000).isPlain)
        registry.remove(first)
        #expect(registry.admit(EmbeddedChannel(), uid: 2000).isPlain)
    }

    @Test func aStoppedRegistryRefuses() {
        let registry = ConnectionRegistry(capacityPerUser: 4, totalCapacity: 4)
        registry.closeAll()
        guard case .refused = registry.admit(EmbeddedChannel(), uid: 1000) else {
            Issue.record("admitted after closeAll")
            return
        }
    }
}

extension ConnectionRegistry.Admission {
    var isPlain: Bool {
        if case .admitted = self { return true }
        return false
    }

    var evicted: (any Channel)? {
        if case .admittedEvicting(let channel) = self { return channel }
        return nil
    }
}

struct RefusalTallyTests {
    @Test func countsPerReasonAndAsksForOneSummaryPerInterval() {
        var tally = RefusalTally()
        let first = tally.record(.otherUser(uid: 1001))
        #expect(first)
        var later = 0
        for _ in 0..<799 where tally.record(.otherUser(uid: 1001)) { later += 1 }
        let otherReason = tally.record(.noSocketEntry)
        #expect(later == 0 && !otherReason)
        let drained = tally.drain()
        #expect(drained.map(\.refusal) == [.otherUser(uid: 1001), .noSocketEntry])
        #expect(drained.map(\.count) == [800, 1])
        #expect(tally.counts.isEmpty)
        let next = tally.record(.otherUser(uid: 1001))
        #expect(next, "the next refusal starts a new interval")
    }
}
