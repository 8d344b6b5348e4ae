import CreddCore
import FoundationEssentials

/// The access-token schedule of one Identity Center session as a value: `handle(event)` moves
/// it to its next state and returns what the driver must do. No I/O and no clock of its own:
/// the driver passes wall-clock `now` (from its injected `WallClock`) and a random source.
///
/// The cache file is shared with the AWS CLI and the SDKs, which refresh it too: the machine
/// re-reads it before each refresh and once after a failed one, and adopts a token another
/// program obtained instead of spending a refresh token that may have been rotated.
public struct SSOTokenRefreshMachine: Sendable {
    /// When to refresh, and how to back off.
    public struct Schedule: Sendable, Hashable {
        /// Refresh when this share of the token's lifetime is left…
        public var leadFraction: Double = 1.0 / 3
        /// …and no later than this before expiry (botocore refreshes inside 15 minutes, so
        /// credd's refresh comes first and the SDKs find a fresh token).
        public var minimumLeadTime: TimeInterval = 20 * 60
        /// Never sooner than this share of the lifetime after obtaining a token: a server handing
        /// out very short tokens cannot drive a refresh loop.
        public var minimumRefreshFraction: Double = 0.25
        /// Up to this share of the lifetime earlier, at random, so sessions do not refresh in step.
        public var maximumJitterFraction: Double = 0.05
        public var retryBaseDelay: TimeInterval = 30
        public var retryMaximumDelay: TimeInterval = 15 * 60

        public init() {}

        /// When to refresh a token expiring at `expiresAt`; `obtainedAt` is known for tokens
        /// this machine obtained, `nil` for tokens found in the cache (refresh at once if due).
        public func refreshTime(expiresAt: Date, obtainedAt: Date?, loadedAt now: Date, jitter: Double) -> Date {
            let lifetime = max(0, expiresAt.timeIntervalSince(obtainedAt ?? now))
            let lead = max(lifetime * leadFraction, minimumLeadTime) + jitter * maximumJitterFraction * lifetime
            let due = expiresAt.addingTimeInterval(-lead)
            guard let obtainedAt else { return due }
            return max(due, obtainedAt.addingTimeInterval(lifetime * minimumRefreshFraction))
        }

        /// When to retry after the `failures`-th consecutive transient failure.
        public func retryTime(after failures: Int, now: Date, jitter: Double) -> Date {
            let window = exponentialBackoff(afterFailures: failures, first: retryBaseDelay, maximum: retryMaximumDelay)
            return now.addingTimeInterval(max(1, jitter * window))
        }
    }

    /// Why the cache is being read.
    public enum CacheCheck: Sendable, Hashable {
        /// At start, or after `credd login` or another program changed the file.
        case load
        /// Just before a refresh (after `failures` consecutive failures): another program may
        /// have refreshed already. A `requested` refresh (`credd refresh`) happens regardless.
        case beforeRefresh(failures: Int, requested: Bool)
        /// Once after a failed refresh, with the failure and the consecutive count so far.
        case afterFailure(SSOError, failures: Int)
    }

    public enum State: Sendable, Hashable {
        /// Nothing read yet.
        case pending
        /// Waiting for the cache file's content.
        case readingCache(CacheCheck)
        /// A token in service; refresh at the date (`nil`: it cannot be refreshed and needs a
        /// sign-in when it expires).
        case fresh(refreshAt: Date?)
        /// A CreateToken with the refresh token in flight.
        case refreshing(failures: Int)
        /// A transient failure: try again at the date. The token may still be in service.
        case retrying(failures: Int, retryAt: Date)
        /// Only `credd login SESSION` (or `aws sso login`) can help.
        case needsLogin(NeedsLoginReason)
    }

    public enum Event: Sendable, Hashable {
        /// A deadline passed or the driver woke up (timer, resume from suspend): re-check now.
        case tick
        /// The cache file's token (`nil`: no file).
        case cacheLoaded(SSOToken?)
        case cacheUnreadable(SSOError)
        case refreshSucceeded(SSOTokenResponse)
        case refreshFailed(SSOError)
        /// The cache file changed, or `credd login` wrote a token: read it again.
        case cacheChanged
        /// `credd refresh`.
        case manualRefresh
    }

    public enum Action: Sendable, Hashable {
        /// Read the cache file and answer with `cacheLoaded` or `cacheUnreadable`.
        case readCache
        /// CreateToken with this token's refresh token and registration; answer with
        /// `refreshSucceeded` or `refreshFailed`.
        case refresh(SSOToken)
        /// Write this token to the cache file.
        case writeCache(SSOToken)
        /// The token in service changed: role credentials renew with it from now on.
        case publish(SSOToken)
        /// No valid token any more: stop calling the portal with the old one.
        case withdraw
    }

    public private(set) var state: State = .pending
    /// The token in service (possibly expired while a refresh is retried).
    public private(set) var token: SSOToken?
    /// When the machine obtained `token` itself; `nil` for a token read from the cache.
    public private(set) var obtainedAt: Date?
    public private(set) var lastRefresh: Date?
    /// The last failure; cleared by a success.
    public private(set) var lastError: SSOError?
    public let schedule: Schedule

    public init(schedule: Schedule = Schedule()) {
        self.schedule = schedule
    }

    /// The access token to call the portal with at `now`: never an expired one.
    public func servedToken(at now: Date) -> SSOToken? {
        guard let token, token.isValid(at: now) else { return nil }
        return token
    }

    /// The earliest moment at which a `.tick` would change something; `nil` when only an event can.
    public var nextDeadline: Date? {
        switch state {
        case .pending: .distantPast
        case .fresh(let refreshAt): earliest(refreshAt, unwithdrawnExpiry)
        case .retrying(_, let retryAt): earliest(retryAt, unwithdrawnExpiry)
        case .needsLogin: unwithdrawnExpiry
        case .readingCache, .refreshing: nil
        }
    }

    /// The expiry of the token in service, until it is withdrawn.
    private var unwithdrawnExpiry: Date? { withdrawn ? nil : token?.expiresAt }

    /// When a sign-in will be needed, if known: the expiry of a token that cannot be refreshed,
    /// or of the client registration.
    public var loginNeededAt: Date? {
        guard let token else { return nil }
        if token.refreshToken == nil { return token.expiresAt }
        return token.registrationExpiresAt
    }

    /// Applies `event` at wall-clock `now`; `random` supplies the jitter.
    public mutating func handle(_ event: Event, now: Date, using random: inout some RandomNumberGenerator) -> [Action] {
        var actions = withdrawIfExpired(now: now)
        switch event {
        case .tick:
            actions += handleTick(now: now)
        case .cacheLoaded(let loaded):
            actions += handleCacheLoaded(loaded, now: now, random: &random)
        case .cacheUnreadable(let error):
            lastError = error
            actions += handleCacheLoaded(nil, now: now, random: &random)
        case .refreshSucceeded(let response):
            actions += handleRefreshSucceeded(response, now: now, random: &random)
        case .refreshFailed(let error):
            guard case .refreshing(let failures) = state else { return actions }
            lastError = error
            state = .readingCache(.afterFailure(error, failures: failures + 1))
            actions.append(.readCache)
        case .cacheChanged:
            actions += readCache(.load)
        case .manualRefresh:
            actions += readCache(.beforeRefresh(failures: 0, requested: true))
        }
        return actions
    }

    // MARK: - Event handlers

    /// An expired access token leaves service before anything else happens. The refresh token
    /// may still work, so the schedule itself is unchanged.
    private mutating func withdrawIfExpired(now: Date) -> [Action] {
        guard let token, token.expiresAt <= now, !withdrawn else { return [] }
        withdrawn = true
        return [.withdraw]
    }

    /// Whether `.withdraw` was sent for the current token.
    private var withdrawn = false
    /// The refresh token CreateToken last refused for good, and why.
    private var refusal: Refusal?

    private struct Refusal: Sendable, Hashable {
        var refreshToken: Secret?
        var reason: NeedsLoginReason
    }

    private mutating func handleTick(now: Date) -> [Action] {
        switch state {
        case .pending:
            return readCache(.load)
        case .fresh(let refreshAt):
            if let refreshAt, refreshAt <= now { return readCache(.beforeRefresh(failures: 0, requested: false)) }
            if refreshAt == nil, let token, token.expiresAt <= now {
                state = .needsLogin(blocker(token, at: now) ?? .noRefreshToken)
            }
            return []
        case .retrying(_, let retryAt):
            guard retryAt <= now, case .retrying(let failures, _) = state else { return [] }
            return readCache(.beforeRefresh(failures: failures, requested: false))
        case .readingCache, .refreshing, .needsLogin:
            return []
        }
    }

    private mutating func readCache(_ check: CacheCheck) -> [Action] {
        switch state {
        case .readingCache, .refreshing:
            // One cache read or refresh per session at a time; its answer re-plans anyway.
            return []
        case .pending, .fresh, .retrying, .needsLogin:
            state = .readingCache(check)
            return [.readCache]
        }
    }

    private mutating func handleCacheLoaded(_ loaded: SSOToken?, now: Date, random: inout some RandomNumberGenerator) -> [Action] {
        guard case .readingCache(let check) = state else { return [] }
        var actions: [Action] = []
        // Another program's token wins when it is newer than the one in service.
        let adopted = loaded.flatMap { candidate in isNewer(candidate) ? candidate : nil }
        if let adopted {
            token = adopted
            obtainedAt = nil
            withdrawn = false
            if adopted.isValid(at: now) { actions.append(.publish(adopted)) }
        }
        guard let token else {
            state = .needsLogin(.noToken)
            return actions
        }
        switch check {
        case .load:
            return actions + plan(now: now, random: &random)
        case .beforeRefresh(let failures, let requested):
            if adopted != nil, !requested, case .fresh(let refreshAt?) = planState(now: now, random: &random), refreshAt > now {
                state = .fresh(refreshAt: refreshAt)
                return actions
            }
            return actions + beginRefresh(token, failures: adopted == nil ? failures : 0, now: now)
        case .afterFailure(let error, let failures):
            if adopted != nil {
                // A different token to try: plan with it; a refresh due now starts afresh.
                return actions + plan(now: now, random: &random)
            }
            if !error.isTransient {
                let reason: NeedsLoginReason = error.code == "InvalidGrantException" ? .sessionEnded : .refreshRefused(code: error.code ?? "none")
                refusal = Refusal(refreshToken: token.refreshToken, reason: reason)
                state = .needsLogin(reason)
                return actions
            }
            state = .retrying(
                failures: failures, retryAt: schedule.retryTime(after: failures, now: now, jitter: Double.random(in: 0..<1, using: &random)))
            return actions
        }
    }

    private mutating func handleRefreshSucceeded(_ response: SSOTokenResponse, now: Date, random: inout some RandomNumberGenerator) -> [Action] {
        guard case .refreshing = state, var refreshed = token else { return [] }
        refreshed.accessToken = response.accessToken
        refreshed.expiresAt = SSOToken.expiry(issuedAt: now, lifetime: response.expiresIn)
        // botocore keeps the old refresh token unless a new one is returned.
        if let newRefreshToken = response.refreshToken { refreshed.refreshToken = newRefreshToken }
        token = refreshed
        obtainedAt = now
        lastRefresh = now
        lastError = nil
        withdrawn = false
        return [.writeCache(refreshed), .publish(refreshed)] + plan(now: now, random: &random)
    }

    // MARK: - Helpers

    /// Schedules the token in service: a refresh when due, a sign-in when it cannot refresh.
    private mutating func plan(now: Date, random: inout some RandomNumberGenerator) -> [Action] {
        let next = planState(now: now, random: &random)
        if case .fresh(let refreshAt?) = next, refreshAt <= now, let token {
            return beginRefresh(token, failures: 0, now: now)
        }
        state = next
        return []
    }

    private func planState(now: Date, random: inout some RandomNumberGenerator) -> State {
        guard let token else { return .needsLogin(.noToken) }
        if let blocker = blocker(token, at: now) { return waitingForLogin(token, blocker, now: now) }
        let jitter = Double.random(in: 0..<1, using: &random)
        return .fresh(refreshAt: schedule.refreshTime(expiresAt: token.expiresAt, obtainedAt: obtainedAt, loadedAt: now, jitter: jitter))
    }

    private mutating func beginRefresh(_ token: SSOToken, failures: Int, now: Date) -> [Action] {
        if let blocker = blocker(token, at: now) {
            state = waitingForLogin(token, blocker, now: now)
            return []
        }
        state = .refreshing(failures: failures)
        return [.refresh(token)]
    }

    /// A token that cannot be refreshed: served until it expires, with a sign-in due then; but a
    /// refused refresh token needs the sign-in now, while there is still time to do it.
    private func waitingForLogin(_ token: SSOToken, _ blocker: NeedsLoginReason, now: Date) -> State {
        let refused = refusal.map { token.refreshToken == $0.refreshToken } ?? false
        return token.isValid(at: now) && !refused ? .fresh(refreshAt: nil) : .needsLogin(blocker)
    }

    /// Why `token` cannot be refreshed at `now`: its own gaps, or a refresh token CreateToken
    /// already refused (trying it again would only be refused again).
    private func blocker(_ token: SSOToken, at now: Date) -> NeedsLoginReason? {
        if let blocker = token.refreshBlocker(at: now) { return blocker }
        if let refusal, token.refreshToken == refusal.refreshToken { return refusal.reason }
        return nil
    }

    /// A cached token replaces the one in service when it is a different token that lasts longer.
    private func isNewer(_ candidate: SSOToken) -> Bool {
        guard let token else { return true }
        return candidate.accessToken != token.accessToken && candidate.expiresAt > token.expiresAt
            || candidate.refreshToken != token.refreshToken && candidate.expiresAt >= token.expiresAt
    }

    private func earliest(_ first: Date?, _ second: Date?) -> Date? {
        switch (first, second) {
        case (let first?, let second?): min(first, second)
        case (let first?, nil): first
        case (nil, let second): second
        }
    }
}
