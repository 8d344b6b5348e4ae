import CreddCore
import FoundationEssentials
import Logging
import ServiceLifecycle

/// Keeps every managed profile fresh: drives one `ProfileRefreshMachine` per profile, runs the
/// renewals it asks for (independent profiles concurrently, one at a time per profile), hands
/// new and withdrawn credentials to the sink in batches (`CredentialBatch` decides which go
/// together, and when), and sleeps on the wall clock until the
/// next deadline: no periodic wake-ups, and a suspend or a clock jump wakes it at once.
/// Nothing runs before `run()`: updates queued earlier (adopted sessions) wait for it, or for
/// `deliverQueued()`.
public actor RefreshEngine: Service {
    public struct Configuration: Sendable {
        /// Renewal and retry timing.
        public var schedule = RefreshSchedule()
        /// How long a finished renewal's credentials may wait for concurrent renewals so that
        /// they share one credentials-file rewrite. The first pass is always one batch; after
        /// it, credentials for a profile whose delivered ones have expired, or would expire
        /// within this delay, never wait.
        public var maximumBatchDelay: TimeInterval = 5
        /// How long the session of a profile a reload removed is remembered, in memory only:
        /// a profile that comes back within it under the same identity takes its session back
        /// (a config file read while an editor was rewriting it costs no MFA code).
        public var removedSessionMemory: TimeInterval = 10 * 60

        public init() {}
    }

    private struct Profile {
        var spec: ProfileSpec
        var machine: ProfileRefreshMachine
        var loggedState: ProfileState?
    }

    private struct Renewal {
        let id: UInt64
        let task: Task<Void, Never>
    }

    private struct Timer {
        let task: Task<Void, Never>
        let wakeAt: Date
    }

    /// A session obtained earlier that a profile may adopt, as in
    /// `adopt(profile:credentials:obtainedAt:)`.
    public struct KeptSession: Sendable, Hashable {
        public let credentials: AWSCredentials
        public let obtainedAt: Date

        public init(credentials: AWSCredentials, obtainedAt: Date) {
            self.credentials = credentials
            self.obtainedAt = obtainedAt
        }
    }

    /// The session a removed profile had in service, and whose it was.
    private struct RemovedSession {
        let identity: String
        let session: KeptSession
        let removedAt: Date
    }

    private typealias AttemptWaiter = CheckedContinuation<Result<ProfileStatus, RefreshFailure>, Never>

    /// What the delivery task does next, in order: apply a batch, or tell a waiter that every
    /// batch before this point has been applied.
    private enum Delivery {
        case batch([CredentialUpdate])
        case applied(@Sendable () async -> Void)
    }

    private let renewer: any CredentialRenewer
    private let wallClock: any WallClock
    private let logger: Logger
    private let configuration: Configuration
    private var random: any RandomNumberGenerator & Sendable

    private var profiles: [String: Profile] = [:]
    /// Config order, for `statuses()`.
    private var order: [String] = []
    /// Each profile's dependents (the profiles it is the source of), in config order: every
    /// successful renewal notifies them, so finding them must not scan all profiles.
    private var dependents: [String: [String]] = [:]
    private var renewals: [String: Renewal] = [:]
    /// Sessions of profiles removed by `update(profiles:)`, by name, for
    /// `Configuration.removedSessionMemory`.
    private var removedSessions: [String: RemovedSession] = [:]
    private var nextRenewalID: UInt64 = 0
    private var attemptWaiters: [String: [AttemptWaiter]] = [:]
    /// Callers of `waitForFirstPass`, by id so that a cancelled one can leave.
    private var firstPassWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextFirstPassWaiterID: UInt64 = 0
    /// Profiles whose first renewal has not finished yet: only these can keep the first pass
    /// from being settled, so checking it costs little while most profiles are renewing.
    private var awaitingFirstAttempt: Set<String> = []
    private var batch: CredentialBatch
    private var timer: Timer?
    private var isRunning = false
    private var isStopped = false
    private let sink: any CredentialSink
    private let pendingDeliveries: AsyncStream<Delivery>
    private let deliveries: AsyncStream<Delivery>.Continuation
    /// Started by `run()`.
    private var deliveryTask: Task<Void, Never>?
    private let statusContinuation: AsyncStream<ProfileStatus>.Continuation

    /// Every state change, for keeping systemd's `STATUS=` current. Single consumer; when the
    /// consumer falls behind, the oldest changes are dropped.
    public nonisolated let statusChanges: AsyncStream<ProfileStatus>

    public init(
        profiles: [ProfileSpec],
        renewer: any CredentialRenewer,
        sink: any CredentialSink,
        wallClock: any WallClock,
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        logger: Logger,
        configuration: Configuration = Configuration()
    ) {
        self.renewer = renewer
        self.sink = sink
        self.wallClock = wallClock
        self.random = random
        self.logger = logger
        self.configuration = configuration
        self.batch = CredentialBatch(maximumDelay: configuration.maximumBatchDelay)
        var initialProfiles: [String: Profile] = [:]
        var initialOrder: [String] = []
        for spec in profiles where initialProfiles[spec.name] == nil {
            initialProfiles[spec.name] = Profile(
                spec: spec, machine: ProfileRefreshMachine(spec: spec, schedule: configuration.schedule))
            initialOrder.append(spec.name)
        }
        self.profiles = initialProfiles
        self.order = initialOrder
        self.dependents = Self.dependents(of: initialOrder.compactMap { initialProfiles[$0]?.spec })
        self.awaitingFirstAttempt = Set(initialOrder)
        (self.pendingDeliveries, self.deliveries) = AsyncStream.makeStream(of: Delivery.self)
        let (statusChanges, statusContinuation) = AsyncStream.makeStream(
            of: ProfileStatus.self, bufferingPolicy: .bufferingNewest(256))
        self.statusChanges = statusChanges
        self.statusContinuation = statusContinuation
    }

    deinit {
        deliveries.finish()
        statusContinuation.finish()
    }

    // MARK: - Public API

    /// Runs until the calling task is cancelled or a graceful shutdown begins, then stops
    /// renewals, delivers the last batch and returns. An engine runs once.
    public func run() async {
        guard !isRunning, !isStopped else { return }
        isRunning = true
        // One consumer applies batches strictly in order, however the engine interleaves. Not a
        // child task: it must outlive the cancellation that ends the loop, to apply the last batch.
        let (pending, sink) = (pendingDeliveries, self.sink)
        deliveryTask = Task { await Self.deliver(pending, to: sink) }
        // What was queued before (adopted sessions) goes out now if due.
        settle()
        await cancelWhenGracefulShutdown { await self.renewUntilCancelled() }
        await shutDown()
    }

    private static func deliver(_ pending: AsyncStream<Delivery>, to sink: any CredentialSink) async {
        for await delivery in pending {
            switch delivery {
            case .batch(let batch): await sink.apply(batch)
            case .applied(let notify): await notify()
            }
        }
    }

    private func renewUntilCancelled() async {
        while !Task.isCancelled {
            tickDueProfiles()
            let wakeAt = nextWakeUp(now: wallClock.now())
            let sleeper = Task { [wallClock] in _ = try? await wallClock.sleep(until: wakeAt) }
            timer = Timer(task: sleeper, wakeAt: wakeAt)
            await withTaskCancellationHandler {
                await sleeper.value
            } onCancel: {
                sleeper.cancel()
            }
            timer = nil
        }
    }

    /// Applies a new configuration: added profiles start, removed ones stop and are withdrawn
    /// (`.removed`), profiles whose identity changed drop their session and renew, and profiles
    /// with other changes keep their session and apply the change from their next renewal.
    /// A profile added back under the identity it had when removed, within
    /// `Configuration.removedSessionMemory`, takes its still-valid session back instead of renewing;
    /// other added profiles adopt their session in `kept`, for which the caller vouches as for
    /// `adopt(profile:credentials:obtainedAt:)`.
    public func update(profiles newSpecs: [ProfileSpec], kept: [String: KeptSession] = [:]) {
        guard !isStopped else { return }
        var seen = Set<String>()
        let specs = newSpecs.filter { seen.insert($0.name).inserted }
        let removed = order.filter { !seen.contains($0) }
        order = specs.map(\.name)
        dependents = Self.dependents(of: specs)
        let now = wallClock.now()
        removedSessions = removedSessions.filter {
            now.timeIntervalSince($0.value.removedAt) < configuration.removedSessionMemory && $0.value.session.credentials.isValid(at: now)
        }
        for name in removed {
            if let profile = profiles[name], let session = profile.machine.session, session.credentials.isValid(at: now) {
                removedSessions[name] = RemovedSession(
                    identity: profile.spec.identity, session: KeptSession(credentials: session.credentials, obtainedAt: session.obtainedAt),
                    removedAt: now)
            }
            renewals.removeValue(forKey: name)?.task.cancel()
            profiles[name] = nil
            awaitingFirstAttempt.remove(name)
            resumeAttemptWaiters(
                name,
                with: .failure(
                    RefreshFailure(
                        disposition: .needsChange,
                        message: "profile '\(name)' was removed from the config before its renewal finished")))
            enqueue(.withdrawn(profile: name, reason: .removed))
            logger.info("profile removed", metadata: ["credd.profile": "\(name)"])
        }
        for spec in specs {
            if let existing = profiles[spec.name] {
                guard existing.spec != spec else { continue }
                profiles[spec.name]?.spec = spec
                let identityChanged = existing.spec.identity != spec.identity
                send(identityChanged ? .configurationChanged(spec) : .settingsChanged(spec), to: spec.name)
            } else {
                profiles[spec.name] = Profile(
                    spec: spec, machine: ProfileRefreshMachine(spec: spec, schedule: configuration.schedule))
                if takeBackRemovedSession(of: spec) { continue }
                if adoptOnArrival(kept[spec.name], by: spec.name) {
                    logger.info("session kept from an earlier run adopted", metadata: ["credd.profile": "\(spec.name)"])
                    continue
                }
                awaitingFirstAttempt.insert(spec.name)
                send(.tick, to: spec.name)
            }
        }
        settle()
    }

    /// Puts back in service the session `spec`'s profile had when a reload removed it, if it
    /// was issued for the same identity and is still valid; returns whether it did.
    private func takeBackRemovedSession(of spec: ProfileSpec) -> Bool {
        guard let removed = removedSessions.removeValue(forKey: spec.name), removed.identity == spec.identity,
            adoptOnArrival(removed.session, by: spec.name)
        else { return false }
        logger.info("profile back under the same identity: its session stays in service", metadata: ["credd.profile": "\(spec.name)"])
        return true
    }

    /// A profile `update` just added adopts `kept`, before its first renewal; returns whether it did.
    private func adoptOnArrival(_ kept: KeptSession?, by name: String) -> Bool {
        guard let kept else { return false }
        send(.adopt(kept.credentials, obtainedAt: kept.obtainedAt), to: name)
        return profiles[name]?.machine.session?.credentials == kept.credentials
    }

    /// Puts a still-valid session obtained by an earlier run back in service, for a profile that
    /// has none: it is served at once and renewed on the schedule it would have had. The caller
    /// vouches that the session was issued for the profile's current identity. Returns whether
    /// the session was taken (not when expired or when the profile already has one).
    @discardableResult
    public func adopt(profile name: String, credentials: AWSCredentials, obtainedAt: Date) -> Bool {
        guard profiles[name] != nil, !isStopped else { return false }
        send(.adopt(credentials, obtainedAt: obtainedAt), to: name)
        let adopted = profiles[name]?.machine.session?.credentials == credentials
        // An adopted session settles the profile: the first pass need not wait for STS.
        if adopted { awaitingFirstAttempt.remove(name) }
        settle()
        return adopted
    }

    /// Before `run()`: applies the updates queued so far (adopted sessions) to the sink, and
    /// returns once it has, so that they are served from the endpoint's first request.
    public func deliverQueued() async {
        guard !isRunning, !isStopped, let updates = batch.take() else { return }
        await sink.apply(updates)
    }

    /// Delivers the named profiles' sessions in service to the sink again, unchanged: after a
    /// key rotation the sink records them under the profile's new keys.
    public func republish(_ names: [String]) {
        guard !isStopped else { return }
        let now = wallClock.now()
        for name in names {
            guard let credentials = profiles[name]?.machine.servedCredentials(at: now) else { continue }
            enqueue(.published(profile: name, credentials: credentials))
        }
        settle()
    }

    /// The machine woke from suspend: every profile checks its deadline now, failed renewals
    /// retry at once and, for the first minute, at short intervals.
    public func resumed() {
        guard !isStopped else { return }
        for name in order { send(.resumed, to: name) }
        settle()
    }

    /// The keyring may have been unlocked: the profiles waiting for it renew now. Returns their
    /// names (none when nothing waited).
    @discardableResult
    public func keyringUnlocked() -> [String] {
        guard !isStopped else { return [] }
        let waiting = order.filter { profiles[$0]?.machine.status == .needsUnlock }
        for name in waiting { send(.keyringUnlocked, to: name) }
        settle()
        return waiting
    }

    /// `credd refresh`: renews the named profiles (all when `nil`) now, whatever their schedule
    /// or last error, and returns once those renewals finished.
    public func refresh(_ names: [String]? = nil) async -> [RefreshOutcome] {
        let targets = names ?? order
        for name in targets where profiles[name] != nil && !isStopped {
            send(.manualRefresh, to: name)
        }
        settle()
        var outcomes: [RefreshOutcome] = []
        for name in targets {
            outcomes.append(RefreshOutcome(profile: name, result: await attemptResult(name)))
        }
        return outcomes
    }

    /// `credd login`: renews `name` with an MFA code the user typed, and returns once that
    /// attempt finished, with the new status or the reason the code did not work.
    public func login(profile name: String, code: Secret) async -> Result<ProfileStatus, RefreshFailure> {
        guard let profile = profiles[name], !isStopped else { return .failure(unknownProfile(name)) }
        guard profile.spec.requiresMFACode else {
            return .failure(
                RefreshFailure(
                    disposition: .needsChange,
                    message: "profile '\(name)' does not use MFA (no mfa_serial in its config): nothing to log in to"))
        }
        guard renewals[name] == nil else {
            return .failure(
                RefreshFailure(
                    disposition: .retryable,
                    message: "profile '\(name)' is renewing right now; check `credd status`, then log in again if it still needs a code"))
        }
        send(.mfaCodeReceived, to: name, mfaCode: code)
        settle()
        return await attemptResult(name)
    }

    /// The profile's credentials if valid right now; never expired ones.
    public func credentials(for name: String) -> AWSCredentials? {
        profiles[name]?.machine.servedCredentials(at: wallClock.now())
    }

    /// Every profile's status, in config order.
    public func statuses() -> [ProfileStatus] {
        order.compactMap(status(of:))
    }

    /// Returns once every profile's first renewal finished or waits on the user (MFA code,
    /// config fix), and the sink has applied that pass's credentials — the moment the daemon
    /// reports itself ready. Returns early when the calling task is cancelled: a shutdown must
    /// not wait for renewals that may never end.
    public func waitForFirstPass() async {
        let id = nextFirstPassWaiterID
        nextFirstPassWaiterID += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                guard !isStopped, !Task.isCancelled else { return waiter.resume() }
                firstPassWaiters[id] = waiter
                if batch.isFirstPassComplete { releaseAfterDeliveries(id) }
            }
        } onCancel: {
            Task { await self.releaseFirstPassWaiter(id) }
        }
    }

    // MARK: - Events and actions

    private func send(_ event: ProfileRefreshMachine.Event, to name: String, mfaCode: Secret? = nil) {
        guard let index = profiles.index(forKey: name) else { return }
        let now = wallClock.now()
        var generator = random
        // Through the index, the machine changes in place: no copy of the profile per event.
        let actions = profiles.values[index].machine.handle(event, now: now, using: &generator)
        random = generator
        // Only the profile that changed can have moved its deadline before the run loop's wake-up.
        if let timer, let deadline = profiles.values[index].machine.nextDeadline, deadline < timer.wakeAt {
            timer.task.cancel()
        }
        for action in actions {
            perform(action, for: name, mfaCode: mfaCode, now: now)
        }
        logStateChange(name)
    }

    private func perform(_ action: ProfileRefreshMachine.Action, for name: String, mfaCode: Secret?, now: Date) {
        switch action {
        case .renew(let withMFACode):
            startRenewal(name, mfaCode: withMFACode ? mfaCode : nil, now: now)
        case .publish(let credentials):
            enqueue(.published(profile: name, credentials: credentials))
        case .withdraw:
            enqueue(.withdrawn(profile: name, reason: .expired))
        case .notifyDependents:
            for dependent in dependents[name] ?? [] {
                send(.sourceRenewed, to: dependent)
            }
        case .requestSourceRenewal:
            if let source = profiles[name]?.spec.sourceProfile {
                send(.dependentReportedExpiry, to: source)
            }
        }
    }

    private static func dependents(of specs: [ProfileSpec]) -> [String: [String]] {
        var dependents: [String: [String]] = [:]
        for spec in specs {
            if let source = spec.sourceProfile { dependents[source, default: []].append(spec.name) }
        }
        return dependents
    }

    private func startRenewal(_ name: String, mfaCode: Secret?, now: Date) {
        guard let profile = profiles[name], renewals[name] == nil else { return }
        var source: AWSCredentials?
        if let sourceName = profile.spec.sourceProfile {
            guard let sourceCredentials = profiles[sourceName]?.machine.servedCredentials(at: now) else {
                send(.sourceUnavailable(sourceUnavailable(sourceName)), to: name)
                return
            }
            source = sourceCredentials
        }
        let id = nextRenewalID
        nextRenewalID += 1
        let renewer = self.renewer
        let spec = profile.spec
        let task = Task { [source] in
            let result: Result<AWSCredentials, RefreshFailure>
            do throws(RefreshFailure) {
                result = .success(try await renewer.renew(profile: spec, source: source, mfaCode: mfaCode))
            } catch {
                result = .failure(error)
            }
            self.finishRenewal(name, id: id, result: result)
        }
        renewals[name] = Renewal(id: id, task: task)
    }

    private func finishRenewal(_ name: String, id: UInt64, result: Result<AWSCredentials, RefreshFailure>) {
        guard renewals[name]?.id == id else { return }
        renewals[name] = nil
        guard !isStopped else {
            resumeAttemptWaiters(name, with: .failure(shuttingDown))
            return
        }
        awaitingFirstAttempt.remove(name)
        switch result {
        case .success(let credentials):
            send(.renewalSucceeded(credentials), to: name)
        case .failure(let failure):
            send(.renewalFailed(failure), to: name)
        }
        if renewals[name] == nil, attemptWaiters[name] != nil {
            resumeAttemptWaiters(name, with: result.flatMap { _ in attemptOutcome(name) })
        }
        settle()
    }

    private func tickDueProfiles() {
        let now = wallClock.now()
        for name in order {
            guard let deadline = profiles[name]?.machine.nextDeadline, deadline <= now else { continue }
            send(.tick, to: name)
        }
        settle()
    }

    // MARK: - Bookkeeping after every change

    /// Delivers the batch when it is complete, wakes first-pass waiters once that pass is
    /// delivered, and wakes the run loop early when a deadline moved before its sleep ends.
    private func settle() {
        // Before `run()` nothing is delivered, so no pass can be over.
        let passJustCompleted = isRunning && !batch.isFirstPassComplete && allProfilesSettled()
        if passJustCompleted { batch.completeFirstPass() }
        if isRunning,
            let updates = batch.takeIfDue(now: wallClock.now(), renewalsRunning: !renewals.isEmpty, passJustCompleted: passJustCompleted)
        {
            deliveries.yield(.batch(updates))
        }
        if passJustCompleted {
            firstPassWaiters.keys.forEach(releaseAfterDeliveries)
        }
        // Profiles' deadlines are checked as they change (`send`); here, the batch's.
        if let timer, let deadline = batch.deadline, deadline < timer.wakeAt {
            timer.task.cancel()
        }
    }

    private func enqueue(_ update: CredentialUpdate) {
        batch.add(update, now: wallClock.now())
    }

    /// Releases first-pass waiter `id` once every batch delivered so far has been applied (at
    /// once after shutdown, when nothing is applied any more).
    private func releaseAfterDeliveries(_ id: UInt64) {
        if case .terminated = deliveries.yield(.applied({ await self.releaseFirstPassWaiter(id) })) { releaseFirstPassWaiter(id) }
    }

    /// Resumes waiter `id` if it still waits (its pass was delivered, or its task was cancelled).
    private func releaseFirstPassWaiter(_ id: UInt64) {
        firstPassWaiters.removeValue(forKey: id)?.resume()
    }

    private func nextDeadline() -> Date? {
        let earliestProfile = profiles.values.lazy.compactMap(\.machine.nextDeadline).min()
        return [batch.deadline, earliestProfile].compactMap { $0 }.min()
    }

    private func nextWakeUp(now: Date) -> Date {
        // A floor keeps a deadline that is somehow still due from turning the loop into a spin.
        max(nextDeadline() ?? .distantFuture, now.addingTimeInterval(0.01))
    }

    private func shutDown() async {
        isStopped = true
        let inFlight = renewals.values.map(\.task)
        inFlight.forEach { $0.cancel() }
        for task in inFlight {
            await task.value
        }
        for name in Array(attemptWaiters.keys) {
            resumeAttemptWaiters(name, with: .failure(shuttingDown))
        }
        if let updates = batch.take() { deliveries.yield(.batch(updates)) }
        deliveries.finish()
        await deliveryTask?.value
        let waiters = firstPassWaiters.values
        firstPassWaiters = [:]
        waiters.forEach { $0.resume() }
        statusContinuation.finish()
        logger.info("refresh engine stopped")
    }

    // MARK: - Waiting for attempts

    /// Waits for the profile's renewal in flight, if any; otherwise explains why none runs.
    private func attemptResult(_ name: String) async -> Result<ProfileStatus, RefreshFailure> {
        guard profiles[name] != nil, !isStopped else {
            return .failure(isStopped ? shuttingDown : unknownProfile(name))
        }
        guard renewals[name] != nil else { return attemptOutcome(name) }
        return await withCheckedContinuation {
            attemptWaiters[name, default: []].append($0)
            logger.debug("request waits for the renewal in flight", metadata: ["credd.profile": "\(name)"])
        }
    }

    /// The profile's current standing as the answer to a request that wanted it renewed.
    private func attemptOutcome(_ name: String) -> Result<ProfileStatus, RefreshFailure> {
        guard let profile = profiles[name], let status = status(of: name) else {
            return .failure(unknownProfile(name))
        }
        switch profile.machine.state {
        case .fresh:
            return .success(status)
        case .needsMFA(let failure):
            return .failure(
                failure
                    ?? RefreshFailure(
                        disposition: .needsMFA,
                        message: "profile '\(name)' needs an MFA code: run `credd login \(name)`"))
        case .needsLogin(let failure):
            return .failure(failure)
        case .pending, .refreshing, .retrying, .expired, .error:
            return .failure(
                profile.machine.lastError
                    ?? RefreshFailure(
                        disposition: .retryable, message: "profile '\(name)' is \(status.state.rawValue); see `credd status`"))
        }
    }

    private func resumeAttemptWaiters(_ name: String, with result: Result<ProfileStatus, RefreshFailure>) {
        let waiters = attemptWaiters.removeValue(forKey: name) ?? []
        waiters.forEach { $0.resume(returning: result) }
    }

    // MARK: - Status

    private func status(of name: String) -> ProfileStatus? {
        guard let profile = profiles[name] else { return nil }
        let machine = profile.machine
        return ProfileStatus(
            name: name,
            state: machine.status,
            expiration: machine.servedCredentials(at: wallClock.now())?.expiration,
            nextRefresh: machine.nextRefresh,
            lastRefresh: machine.lastRefresh,
            lastError: machine.lastError?.message,
            sourceProfile: profile.spec.sourceProfile,
            signInName: profile.spec.signInName
        )
    }

    /// Settled: the first renewal finished, or the profile waits on the user or on a source
    /// that is itself settled.
    private func allProfilesSettled() -> Bool {
        awaitingFirstAttempt.allSatisfy { isSettled($0, depth: 0) }
    }

    private func isSettled(_ name: String, depth: Int) -> Bool {
        guard awaitingFirstAttempt.contains(name), let profile = profiles[name] else { return true }
        switch profile.machine.state {
        case .needsMFA, .needsLogin, .error:
            return true
        case .retrying(let retry), .expired(let retry):
            // Waiting for the user, as for an MFA code.
            if retry.failure.disposition == .needsUnlock { return true }
            // The depth bound guards against a source cycle the config should have rejected.
            guard retry.retryAt == nil, let source = profile.spec.sourceProfile, depth < order.count else {
                return false
            }
            return renewals[source] == nil && isSettled(source, depth: depth + 1)
        case .pending, .fresh, .refreshing:
            return false
        }
    }

    private func logStateChange(_ name: String) {
        guard let profile = profiles[name], profile.loggedState != profile.machine.status,
            let status = status(of: name)
        else { return }
        profiles[name]?.loggedState = status.state
        var metadata: Logger.Metadata = [
            "credd.profile": "\(name)",
            "credd.state": "\(status.state.rawValue)",
        ]
        if let expiration = status.expiration {
            metadata["credd.expiration"] = "\(AWSTimestamp.format(expiration))"
        }
        if let nextRefresh = status.nextRefresh {
            metadata["credd.next_refresh"] = "\(AWSTimestamp.format(nextRefresh))"
        }
        if let lastError = status.lastError {
            metadata["credd.error"] = "\(lastError)"
        }
        let level: Logger.Level =
            switch status.state {
            case .refreshing: .debug
            case .pending, .fresh: .info
            case .retrying, .needsMFA, .needsLogin, .needsUnlock, .expired, .error: .warning
            }
        let action = ProfileAction.needed(by: status, lookup: self.status(of:))
        logger.log(level: level, "\(status.journalMessage(action: action, now: wallClock.now()))", metadata: metadata)
        statusContinuation.yield(status)
    }

    // MARK: - Messages

    private var shuttingDown: RefreshFailure {
        RefreshFailure(disposition: .retryable, message: "credd is shutting down; the renewal was cancelled")
    }

    private func unknownProfile(_ name: String) -> RefreshFailure {
        RefreshFailure(
            disposition: .needsChange,
            message: "no managed profile named '\(name)'; `credd check` lists the configured profiles")
    }

    private func sourceUnavailable(_ source: String) -> RefreshFailure {
        let state = profiles[source].map { $0.machine.status.rawValue } ?? "not managed"
        return RefreshFailure(
            disposition: .sourceExpired,
            message: "waiting for source profile '\(source)' (\(state)): it has no valid credentials"
        )
    }
}
