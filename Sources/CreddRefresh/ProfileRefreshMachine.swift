import CreddCore
import FoundationEssentials

/// The refresh schedule of one profile as a value: `handle(event)` moves it to its next state and
/// returns what the driver must do. It performs no I/O and reads no clock; the driver passes
/// wall-clock `now` and a random source with every event.
public struct ProfileRefreshMachine: Sendable {
    /// Credentials in service and when they were obtained (the start of their lifetime).
    public struct Session: Sendable, Hashable {
        public let credentials: AWSCredentials
        public let obtainedAt: Date
        /// Taken over from an earlier run (`adopt`) rather than renewed here: STS has not vouched
        /// for it in this run, so a rejection drops it at once.
        public let adopted: Bool
    }

    /// A failed renewal waiting to be retried.
    public struct Retry: Sendable, Hashable {
        /// Why the last attempt failed, or why it could not start.
        public var failure: RefreshFailure
        /// Consecutive failed attempts; drives the backoff.
        public var failedAttempts: Int
        /// When to try again; `nil` when only the source's next renewal can unblock it.
        public var retryAt: Date?
        /// Try again as soon as the source profile renews.
        public var resumesWhenSourceRenews: Bool
    }

    /// A renewal in flight.
    public struct Attempt: Sendable, Hashable {
        /// The attempt uses a code from `credd login`.
        public var usesMFACode: Bool
        /// Consecutive failures before this attempt.
        public var failedAttempts: Int
        /// The configuration changed while in flight: renew again once this attempt ends.
        public var renewAgain: Bool
        /// Consecutive attempts that ended in `error` before this one; drives the slow retries.
        public var errorRetries: Int = 0
        /// Settings changed while in flight: should this attempt fail, the new settings get
        /// their own try at once (the edit may be the fix); a success stands.
        public var retryIfFailed = false
    }

    public enum State: Sendable, Hashable {
        /// Nothing obtained yet; the first renewal is due at once.
        case pending
        /// Credentials in service; renew at the date (`nil`: they never expire).
        case fresh(renewAt: Date?)
        case refreshing(Attempt)
        /// Waiting to retry; credentials obtained earlier may still be in service.
        case retrying(Retry)
        /// Waiting for `credd login`; credentials may still be in service until they expire.
        case needsMFA(RefreshFailure?)
        /// Waiting for an IAM Identity Center sign-in: no retries, since only a new token helps
        /// (the driver renews on its arrival); credentials may still be in service until they expire.
        case needsLogin(RefreshFailure)
        /// Waiting to retry after the credentials in service expired.
        case expired(Retry)
        /// Waiting for a change, retried on a slow schedule (users fix such errors on the AWS
        /// side); credentials may still be in service until they expire.
        case error(Retry)
    }

    public enum Event: Sendable, Hashable {
        /// A deadline passed, or the driver woke up (timer, resume from suspend): re-check now.
        case tick
        case renewalSucceeded(AWSCredentials)
        case renewalFailed(RefreshFailure)
        /// The due renewal could not start: the managed source profile has no valid credentials.
        case sourceUnavailable(RefreshFailure)
        /// The managed source profile obtained new credentials.
        case sourceRenewed
        /// A dependent's renewal was refused because these credentials expired upstream (or STS
        /// did not recognise them).
        case dependentReportedExpiry
        /// `credd refresh`.
        case manualRefresh
        /// A session obtained earlier (by a previous run of the daemon) that is still valid and
        /// was issued for this profile's identity: serve it and schedule its renewal as if it had
        /// just been renewed at `obtainedAt`.
        case adopt(AWSCredentials, obtainedAt: Date)
        /// The profile's identity changed (source, `mfa_serial`, role, external id): the session
        /// in service belongs to the old definition, so it leaves service and the profile renews.
        case configurationChanged(ProfileSpec)
        /// Settings that do not change whose session this is changed (duration, region,
        /// `mfa_process`, …): the session stays; they apply from the next renewal.
        case settingsChanged(ProfileSpec)
        /// `credd login` supplied a code.
        case mfaCodeReceived
        /// The machine woke from suspend (logind's `PrepareForSleep(false)`): check now, retry a
        /// failed renewal at once, and retry network failures quickly for a while, as the network
        /// comes back.
        case resumed
        /// The Secret Service says a collection may have been unlocked: a profile waiting for
        /// its keyring (`needs_unlock`) renews now.
        case keyringUnlocked
    }

    public enum Action: Sendable, Hashable {
        /// Start a renewal (the driver makes sure only one is in flight).
        case renew(withMFACode: Bool)
        /// Serve and write these new credentials.
        case publish(AWSCredentials)
        /// Stop serving and writing this profile's credentials: they expired.
        case withdraw
        /// Tell profiles chained on this one that it renewed.
        case notifyDependents
        /// Ask the source profile to renew: STS says its credentials expired.
        case requestSourceRenewal
    }

    public private(set) var state: State = .pending
    public private(set) var session: Session?
    /// When the last renewal succeeded.
    public private(set) var lastRefresh: Date?
    /// The last failure; cleared by a success.
    public private(set) var lastError: RefreshFailure?
    public let schedule: RefreshSchedule
    private var requiresMFACode: Bool
    private var waitsForInteractiveMFA: Bool
    /// After a resume, retries are `schedule.resumeRetryDelay` apart until then.
    private var quickRetriesUntil: Date?

    public init(spec: ProfileSpec, schedule: RefreshSchedule = RefreshSchedule()) {
        self.schedule = schedule
        self.requiresMFACode = spec.requiresMFACode
        self.waitsForInteractiveMFA = spec.waitsForInteractiveMFA
    }

    /// The credentials to serve at `now`: never expired, never incomplete.
    public func servedCredentials(at now: Date) -> AWSCredentials? {
        guard let credentials = session?.credentials, credentials.isValid(at: now) else { return nil }
        return credentials
    }

    /// The earliest moment at which a `.tick` would change something; `nil` when only an
    /// event can.
    public var nextDeadline: Date? {
        let expiry = session?.credentials.expiration
        switch state {
        case .pending:
            return .distantPast
        case .fresh(let renewAt):
            return earliest(renewAt, expiry)
        case .retrying(let retry), .expired(let retry), .error(let retry):
            return earliest(retry.retryAt, expiry)
        case .refreshing, .needsMFA, .needsLogin:
            return expiry
        }
    }

    /// When the next renewal is planned, for `credd status`.
    public var nextRefresh: Date? {
        switch state {
        case .fresh(let renewAt):
            return renewAt
        case .retrying(let retry), .expired(let retry), .error(let retry):
            return retry.retryAt
        case .pending, .refreshing, .needsMFA, .needsLogin:
            return nil
        }
    }

    /// The status name of the current state.
    public var status: ProfileState {
        switch state {
        case .pending: .pending
        case .fresh: .fresh
        case .refreshing: .refreshing
        case .retrying(let retry) where retry.failure.disposition == .needsUnlock,
            .expired(let retry) where retry.failure.disposition == .needsUnlock:
            .needsUnlock
        case .retrying(let retry):
            // A first renewal that only waits for its source to finish is still pending.
            lastRefresh == nil && retry.failedAttempts == 0 && retry.retryAt == nil ? .pending : .retrying
        case .needsMFA: .needsMFA
        case .needsLogin: .needsLogin
        case .expired: .expired
        case .error: .error
        }
    }

    /// Applies `event` at wall-clock `now`; `random` supplies jitter for schedules and backoff.
    public mutating func handle(
        _ event: Event,
        now: Date,
        using random: inout some RandomNumberGenerator
    ) -> [Action] {
        var actions = expireSession(now: now)
        switch event {
        case .tick:
            actions += handleTick(now: now)
        case .renewalSucceeded(let credentials):
            actions += handleSuccess(credentials, now: now, random: &random)
        case .renewalFailed(let failure):
            actions += handleFailure(failure, now: now, random: &random)
        case .sourceUnavailable(let failure):
            actions += handleSourceUnavailable(failure)
        case .sourceRenewed:
            actions += handleSourceRenewed()
        case .dependentReportedExpiry:
            actions += handleDependentReportedExpiry(now: now)
        case .adopt(let credentials, let obtainedAt):
            actions += handleAdoption(credentials, obtainedAt: obtainedAt, now: now, random: &random)
        case .manualRefresh:
            actions += renewOnRequest()
        case .configurationChanged(let spec):
            adoptSettings(of: spec)
            actions += handleIdentityChange()
        case .settingsChanged(let spec):
            adoptSettings(of: spec)
            actions += handleSettingsChange()
        case .mfaCodeReceived:
            actions += handleMFACode()
        case .resumed:
            actions += handleResume(now: now)
        case .keyringUnlocked:
            actions += handleKeyringUnlocked()
        }
        return actions
    }

    // MARK: - Event handlers

    /// Expired credentials leave service before anything else happens, whatever the event.
    private mutating func expireSession(now: Date) -> [Action] {
        guard let session, !session.credentials.isValid(at: now) else { return [] }
        self.session = nil
        switch state {
        case .retrying(let retry):
            state = .expired(retry)
        case .pending, .fresh, .refreshing, .needsMFA, .needsLogin, .expired, .error:
            break
        }
        return [.withdraw]
    }

    private mutating func handleTick(now: Date) -> [Action] {
        switch state {
        case .pending:
            return beginRenewal(failedAttempts: 0)
        case .fresh(let renewAt):
            // Expired credentials were withdrawn above: a wake after expiry renews at once.
            guard session == nil || renewAt.map({ $0 <= now }) == true else { return [] }
            return beginRenewal(failedAttempts: 0)
        case .retrying(let retry), .expired(let retry):
            guard let retryAt = retry.retryAt, retryAt <= now else { return [] }
            return beginRenewal(failedAttempts: retry.failedAttempts)
        case .error(let retry):
            guard let retryAt = retry.retryAt, retryAt <= now else { return [] }
            return beginRenewal(failedAttempts: 0, errorRetries: retry.failedAttempts)
        case .refreshing, .needsMFA, .needsLogin:
            return []
        }
    }

    private mutating func handleSuccess(
        _ credentials: AWSCredentials,
        now: Date,
        random: inout some RandomNumberGenerator
    ) -> [Action] {
        guard case .refreshing(let attempt) = state else { return [] }
        guard credentials.isValid(at: now) else {
            let expiry = credentials.expiration.map { AWSTimestamp.format($0) } ?? "none"
            let failure = RefreshFailure(
                disposition: .retryable,
                message: "the renewal returned incomplete or already expired credentials (expiration \(expiry)); "
                    + "check the system clock; retrying"
            )
            return handleFailure(failure, now: now, random: &random)
        }
        let published = putInService(credentials, obtainedAt: now, adopted: false, random: &random)
        guard attempt.renewAgain else { return published }
        return published + beginRenewal(failedAttempts: 0)
    }

    /// Only a profile with nothing in service adopts: a session this run obtained is never
    /// replaced by an older one.
    private mutating func handleAdoption(
        _ credentials: AWSCredentials,
        obtainedAt: Date,
        now: Date,
        random: inout some RandomNumberGenerator
    ) -> [Action] {
        guard session == nil, credentials.isValid(at: now), credentials.expiration != nil else { return [] }
        switch state {
        case .pending, .needsMFA, .needsLogin, .retrying, .expired, .error:
            return putInService(credentials, obtainedAt: min(obtainedAt, now), adopted: true, random: &random)
        case .fresh, .refreshing:
            return []
        }
    }

    /// Serves `credentials` and schedules their renewal from `obtainedAt`.
    private mutating func putInService(
        _ credentials: AWSCredentials,
        obtainedAt: Date,
        adopted: Bool,
        random: inout some RandomNumberGenerator
    ) -> [Action] {
        session = Session(credentials: credentials, obtainedAt: obtainedAt, adopted: adopted)
        lastRefresh = obtainedAt
        lastError = nil
        let renewAt = credentials.expiration.map {
            schedule.renewalTime(
                obtainedAt: obtainedAt,
                expiration: $0,
                interactive: waitsForInteractiveMFA,
                jitter: Double.random(in: 0..<1, using: &random)
            )
        }
        state = .fresh(renewAt: renewAt)
        return [.publish(credentials), .notifyDependents]
    }

    private mutating func handleFailure(
        _ failure: RefreshFailure,
        now: Date,
        random: inout some RandomNumberGenerator
    ) -> [Action] {
        guard case .refreshing(let attempt) = state else { return [] }
        lastError = failure
        if attempt.renewAgain || attempt.retryIfFailed {
            // The attempt ran with the old configuration; the new one deserves its own try.
            return beginRenewal(failedAttempts: attempt.failedAttempts + 1)
        }
        if waitsForInteractiveMFA {
            // A code is single-use: whatever went wrong, the next attempt needs a new one.
            state = .needsMFA(failure)
            return []
        }
        switch failure.disposition {
        case .retryable:
            state = waiting(for: retry(after: attempt, failure, now: now, random: &random, untilSourceRenews: false))
            return []
        case .sourceExpired:
            state = waiting(for: retry(after: attempt, failure, now: now, random: &random, untilSourceRenews: true))
            return [.requestSourceRenewal]
        case .needsChange:
            let errorRetries = attempt.errorRetries + 1
            let retryAt = schedule.errorRetryTime(
                after: errorRetries, now: now, jitter: Double.random(in: 0..<1, using: &random))
            state = .error(
                Retry(
                    failure: failure, failedAttempts: errorRetries, retryAt: retryAt, resumesWhenSourceRenews: false))
            return []
        case .needsMFA:
            state = .needsMFA(failure)
            return []
        case .needsLogin:
            state = .needsLogin(failure)
            return []
        case .needsUnlock:
            // The keyring's signals renew at once after an unlock (`keyringUnlocked`); this slow,
            // steady retry is for a keyring that sends none, and costs a D-Bus call, not an STS one.
            state = waiting(
                for: Retry(
                    failure: failure, failedAttempts: attempt.failedAttempts + 1, retryAt: now.addingTimeInterval(Self.unlockRetryInterval),
                    resumesWhenSourceRenews: false))
            return []
        }
    }

    /// How often a profile whose keys are in a locked keyring tries again without being told of
    /// an unlock.
    public static let unlockRetryInterval: TimeInterval = 60

    private mutating func handleKeyringUnlocked() -> [Action] {
        switch state {
        case .retrying(let retry) where retry.failure.disposition == .needsUnlock,
            .expired(let retry) where retry.failure.disposition == .needsUnlock:
            return beginRenewal(failedAttempts: retry.failedAttempts)
        case .pending, .fresh, .refreshing, .retrying, .needsMFA, .needsLogin, .expired, .error:
            return []
        }
    }

    private mutating func handleSourceUnavailable(_ failure: RefreshFailure) -> [Action] {
        guard case .refreshing(let attempt) = state else { return [] }
        lastError = failure
        if waitsForInteractiveMFA {
            state = .needsMFA(failure)
        } else {
            // The source's next renewal is the only thing that can help: no timer.
            let retry = Retry(
                failure: failure,
                failedAttempts: attempt.failedAttempts,
                retryAt: nil,
                resumesWhenSourceRenews: true
            )
            state = waiting(for: retry)
        }
        return []
    }

    private mutating func handleSourceRenewed() -> [Action] {
        switch state {
        case .retrying(let retry), .expired(let retry):
            guard retry.resumesWhenSourceRenews else { return [] }
            return beginRenewal(failedAttempts: retry.failedAttempts)
        case .pending, .fresh, .refreshing, .needsMFA, .needsLogin, .error:
            // A healthy dependent keeps its own schedule; it picks up the new source when due.
            return []
        }
    }

    private mutating func handleDependentReportedExpiry(now: Date) -> [Action] {
        if let session, session.adopted {
            // STS refused a session taken over from an earlier run: it was revoked or belongs to
            // keys that changed meanwhile. Never serve it again.
            switch state {
            case .refreshing:
                return []
            case .pending, .fresh, .retrying, .needsMFA, .needsLogin, .expired, .error:
                self.session = nil
                lastError = RefreshFailure(
                    disposition: .sourceExpired,
                    message: "STS rejected the session credd kept from its previous run; renewing it")
                return [.withdraw] + beginRenewal(failedAttempts: 0)
            }
        }
        switch state {
        case .fresh:
            // Within the minimum interval the report cannot be about these credentials being
            // stale by schedule; renewing again would let a confused dependent cause a storm.
            // The dependent's own backoff retries it.
            guard let session, let expiration = session.credentials.expiration else { return [] }
            let lifetime = expiration.timeIntervalSince(session.obtainedAt)
            let earliest = session.obtainedAt.addingTimeInterval(lifetime * schedule.minimumRenewalFraction)
            guard earliest <= now else { return [] }
            return beginRenewal(failedAttempts: 0)
        case .pending, .refreshing, .retrying, .needsMFA, .needsLogin, .expired, .error:
            return []
        }
    }

    private mutating func handleResume(now: Date) -> [Action] {
        quickRetriesUntil = now.addingTimeInterval(schedule.resumeRetryWindow)
        switch state {
        case .retrying(let retry) where retry.retryAt != nil, .expired(let retry) where retry.retryAt != nil:
            return beginRenewal(failedAttempts: retry.failedAttempts)
        case .pending, .fresh, .refreshing, .retrying, .needsMFA, .needsLogin, .expired, .error:
            return handleTick(now: now)
        }
    }

    /// `credd refresh`, or a new IAM Identity Center token: renew now, whatever the schedule or
    /// the last error said, except that a profile waiting for `credd login` keeps its valid
    /// session in service rather than asking for a code early (`credd login` renews it on demand).
    private mutating func renewOnRequest() -> [Action] {
        switch state {
        case .refreshing:
            return []
        case .fresh where waitsForInteractiveMFA && session != nil:
            return []
        case .retrying(let retry), .expired(let retry):
            return beginRenewal(failedAttempts: retry.failedAttempts)
        case .pending, .fresh, .needsMFA, .needsLogin, .error:
            return beginRenewal(failedAttempts: 0)
        }
    }

    private mutating func adoptSettings(of spec: ProfileSpec) {
        requiresMFACode = spec.requiresMFACode
        waitsForInteractiveMFA = spec.waitsForInteractiveMFA
    }

    private mutating func handleIdentityChange() -> [Action] {
        var actions: [Action] = []
        if session != nil {
            session = nil
            actions.append(.withdraw)
        }
        switch state {
        case .refreshing(var attempt):
            attempt.renewAgain = true
            state = .refreshing(attempt)
            return actions
        case .pending, .fresh, .retrying, .needsMFA, .needsLogin, .expired, .error:
            return actions + beginRenewal(failedAttempts: 0)
        }
    }

    /// The session stays in service; a profile that waits retries at once, since a config edit
    /// is what an `error` waits for and a new `mfa_process` is what `needs_mfa` waits for.
    private mutating func handleSettingsChange() -> [Action] {
        switch state {
        case .refreshing(var attempt):
            attempt.retryIfFailed = true
            state = .refreshing(attempt)
            return []
        case .pending, .fresh:
            return []
        case .needsMFA:
            return waitsForInteractiveMFA ? [] : beginRenewal(failedAttempts: 0)
        case .retrying, .needsLogin, .expired, .error:
            return beginRenewal(failedAttempts: 0)
        }
    }

    private mutating func handleMFACode() -> [Action] {
        guard requiresMFACode else { return [] }
        switch state {
        case .refreshing:
            return []
        case .pending, .fresh, .retrying, .needsMFA, .needsLogin, .expired, .error:
            state = .refreshing(Attempt(usesMFACode: true, failedAttempts: 0, renewAgain: false))
            return [.renew(withMFACode: true)]
        }
    }

    // MARK: - Helpers

    /// Starts a renewal, or waits for `credd login` when only the user can supply the code.
    private mutating func beginRenewal(failedAttempts: Int, errorRetries: Int = 0) -> [Action] {
        if waitsForInteractiveMFA {
            switch state {
            case .needsMFA:
                break
            case .pending, .fresh, .refreshing, .retrying, .needsLogin, .expired, .error:
                state = .needsMFA(nil)
            }
            return []
        }
        state = .refreshing(
            Attempt(
                usesMFACode: false, failedAttempts: failedAttempts, renewAgain: false, errorRetries: errorRetries))
        return [.renew(withMFACode: false)]
    }

    private func retry(
        after attempt: Attempt,
        _ failure: RefreshFailure,
        now: Date,
        random: inout some RandomNumberGenerator,
        untilSourceRenews: Bool
    ) -> Retry {
        let failedAttempts = attempt.failedAttempts + 1
        var retryAt = schedule.retryTime(
            after: failedAttempts,
            now: now,
            jitter: Double.random(in: 0..<1, using: &random),
            servingUntil: session?.credentials.expiration
        )
        if let quickRetriesUntil, now < quickRetriesUntil {
            retryAt = min(retryAt, now.addingTimeInterval(schedule.resumeRetryDelay))
        }
        return Retry(
            failure: failure,
            failedAttempts: failedAttempts,
            retryAt: retryAt,
            resumesWhenSourceRenews: untilSourceRenews
        )
    }

    /// `retrying` while credentials are in service or none were ever obtained; `expired` once
    /// credentials that were served have run out.
    private func waiting(for retry: Retry) -> State {
        session == nil && lastRefresh != nil ? .expired(retry) : .retrying(retry)
    }

    private func earliest(_ first: Date?, _ second: Date?) -> Date? {
        switch (first, second) {
        case (let first?, let second?): min(first, second)
        case (let first?, nil): first
        case (nil, let second?): second
        case (nil, nil): nil
        }
    }
}
