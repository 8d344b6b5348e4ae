import CreddCore
import FoundationEssentials
import Synchronization

/// The IMDSv2 session tokens handed out, each valid until its TTL runs out.
///
/// Bounded: when full, expired tokens go first, then the oldest issued. A forgotten token
/// answers 401, which every SDK handles by asking for a new one.
final class IMDSTokenStore: Sendable {
    private struct State {
        var expiries: [String: Date] = [:]
        /// Tokens in issue order, to find the oldest when full.
        var issueOrder: [String] = []
    }

    private let capacity: Int
    private let wallClock: any WallClock
    private let state = Mutex(State())

    init(capacity: Int, wallClock: any WallClock) {
        precondition(capacity > 0, "the IMDS token store needs room for at least one token")
        self.capacity = capacity
        self.wallClock = wallClock
    }

    /// A fresh token valid for `ttlSeconds` from now.
    func issue(ttlSeconds: Int) -> Secret {
        let token = RandomToken.make()
        let now = wallClock.now()
        state.withLock { state in
            if state.issueOrder.count >= capacity {
                state.issueOrder.removeAll { state.expiries[$0].map { $0 <= now } ?? true }
                state.expiries = state.expiries.filter { $0.value > now }
            }
            if state.issueOrder.count >= capacity {
                let oldest = state.issueOrder.removeFirst()
                state.expiries[oldest] = nil
            }
            state.expiries[token] = now.addingTimeInterval(TimeInterval(ttlSeconds))
            state.issueOrder.append(token)
        }
        return Secret(token)
    }

    /// Whether `token` was issued here and has not expired.
    func isValid(_ token: String) -> Bool {
        let now = wallClock.now()
        return state.withLock { state in
            guard let expiry = state.expiries[token] else { return false }
            return expiry > now
        }
    }

    var count: Int { state.withLock { $0.expiries.count } }
}
