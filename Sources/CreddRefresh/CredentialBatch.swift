import FoundationEssentials

/// Which credential updates go to the sinks together, and when: renewals that finish close
/// together share one credentials-file rewrite. A value the engine drives with plain calls and
/// the time, so the rules are tested without an engine.
///
/// - Until the first pass is complete (every profile's first renewal finished or waits on the
///   user), the batch waits for the whole pass.
/// - After it, the batch goes out once no renewal runs, or once it has waited `maximumDelay`.
/// - An urgent update goes out at once: a withdrawal, or credentials for a profile whose
///   delivered ones have expired or expire within `maximumDelay`. Waiting for other renewals
///   would leave the file and the endpoint without valid credentials that credd already holds
///   (an STS call stalled on another profile can take a read timeout, several times over).
struct CredentialBatch: Sendable {
    let maximumDelay: TimeInterval
    private(set) var updates: [CredentialUpdate] = []
    private(set) var isFirstPassComplete = false
    /// The profiles in `updates`, and whether it must go out at once: kept so that each update
    /// costs O(1) rather than a scan of a batch that holds a whole pass.
    private var profiles: Set<String> = []
    private var isUrgent = false
    private var startedAt: Date?
    /// When the credentials last delivered for each profile expire (`distantPast` once
    /// withdrawn, `distantFuture` for credentials without an expiration); absent before any
    /// delivery.
    private var deliveredExpirations: [String: Date] = [:]

    init(maximumDelay: TimeInterval) {
        self.maximumDelay = maximumDelay
    }

    /// Adds an update; a later update for the same profile supersedes an undelivered earlier one.
    mutating func add(_ update: CredentialUpdate, now: Date) {
        if updates.isEmpty { startedAt = now }
        if !profiles.insert(update.profile).inserted {
            updates.removeAll { $0.profile == update.profile }
            isUrgent = updates.contains { isUrgent($0, now: now) }
        }
        if isUrgent(update, now: now) { isUrgent = true }
        updates.append(update)
    }

    /// The first pass is over: from now on a batch waits at most `maximumDelay`, and the one
    /// pending goes out at the next `take`.
    mutating func completeFirstPass() {
        isFirstPassComplete = true
    }

    /// The updates to deliver now, if any is due. `passJustCompleted` delivers the pass's batch
    /// even while renewals run.
    mutating func takeIfDue(now: Date, renewalsRunning: Bool, passJustCompleted: Bool = false) -> [CredentialUpdate]? {
        guard let startedAt, !updates.isEmpty else { return nil }
        let delayed = isFirstPassComplete && now.timeIntervalSince(startedAt) >= maximumDelay
        guard !renewalsRunning || isUrgent || passJustCompleted || delayed else { return nil }
        return take()
    }

    /// Every pending update, due or not (at shutdown); nil when there are none.
    mutating func take() -> [CredentialUpdate]? {
        guard !updates.isEmpty else { return nil }
        let taken = updates
        for update in taken {
            switch update {
            case .published(let profile, let credentials):
                deliveredExpirations[profile] = credentials.expiration ?? .distantFuture
            case .withdrawn(let profile, .removed):
                deliveredExpirations[profile] = nil
            case .withdrawn(let profile, _):
                deliveredExpirations[profile] = .distantPast
            }
        }
        updates = []
        profiles = []
        isUrgent = false
        startedAt = nil
        return taken
    }

    /// When the pending batch goes out even if renewals are still running; nil when nothing
    /// waits or before the first pass is complete.
    var deadline: Date? {
        guard let startedAt, !updates.isEmpty, isFirstPassComplete else { return nil }
        return startedAt.addingTimeInterval(maximumDelay)
    }

    private func isUrgent(_ update: CredentialUpdate, now: Date) -> Bool {
        switch update {
        case .withdrawn:
            return true
        case .published(let profile, _):
            guard isFirstPassComplete, let delivered = deliveredExpirations[profile] else { return false }
            return delivered <= now.addingTimeInterval(maximumDelay)
        }
    }
}
