import CreddCore
import FoundationEssentials
import Logging

/// Keeps every managed profile fresh: drives one `ProfileRefreshMachine` per profile, runs the
/// renewals it asks for (independent profiles concurrently, one at a time per profile), hands
/// new and withdrawn credentials to the sink in batches, and sleeps on the wall clock until the
/// next deadline: no periodic wake-ups, and a suspend or a clock jump wakes it at once.
public actor RefreshEngine {
    public struct Configuration: Sendable {
        /// Renewal and retry timing.
        public var schedule = RefreshSchedule()
        /// How long a finished renewal's credentials may wait for concurrent renewals so that
        /// they share one credentials-file rewrite. The first pass is always one batch; after
        /// it, credentials for a profile whose delivered ones have expired, or would expire
        /// within this delay, never wait.
        public var maximumBatchDelay: TimeInterval = 5

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

    private typealias AttemptWaiter = CheckedContinuation<Result<ProfileStatus, RefreshFailure>, Never>

    /// What the delivery task does next, in order: apply a batch, or tell a waiter that every
    /// batch before this point has been applied.
    private enum Delivery {
        case batch([CredentialUpdate])
        case applied(CheckedContinuation<Void, Never>)
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
    private var nextRenewalID: UInt64 = 0
    private var attemptWaiters: [String: [AttemptWaiter]] = [:]
    private var firstPassWaiters: [CheckedContinuation<Void, Never>] = []
    /// Profiles whose first renewal has not finished yet: only these can keep the first pass
    /// from being settled, so checking it costs little while most profiles are renewing.
    private var awaitingFirstAttempt: Set<String> = []
    /// Until every profile's first attempt has finished, the batch waits for the whole pass.
    private var firstPassComplete = false
    private var batch: [CredentialUpdate] = []
    /// The profiles in `batch`, and whether it must go out without waiting for concurrent
    /// renewals (`isUrgent`): kept so that each event costs O(1) rather than a scan of a batch
    /// that holds a whole pass.
    private var batchProfiles: Set<String> = []
    private var batchIsUrgent = false
    /// When the credentials last delivered for each profile expire (`distantPast` once
    /// withdrawn, `distantFuture` for credentials without an expiration); absent before any
    /// delivery.
    private var deliveredExpirations: [String: Date] = [:]
    private var batchStartedAt: Date?
    private var timer: Timer?
    private var isRunning = false
    private var isStopped = false
    private let deliveries: AsyncStream<Delivery>.Continuation
    private let deliveryTask: Task<Void, Never>
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
        self.wallClock = wallClock
        self.random = random
        self.logger = logger
        self.configuration = configuration
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
        let (pending, deliveries) = AsyncStream.makeStream(of: Delivery.self)
        self.deliveries = deliveries
        // One consumer applies batches strictly in order, however the engine interleaves.
        self.deliveryTask = Task {
            for await delivery in pending {
                switch delivery {
                case .batch(let batch): await sink.apply(batch)
                case .applied(let waiter): waiter.resume()
                }
            }
        }
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

    /// Runs until the calling task is cancelled, then stops renewals, delivers the last batch
    /// and returns. An engine runs once.
    public func run() async {
        guard !isRunning, !isStopped else { return }
        isRunning = true
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
        await shutDown()
    }

    /// Applies a new configuration: added profiles start, removed ones stop and are withdrawn
    /// (`.removed`), profiles whose identity changed drop their session and renew, and profiles
    /// with other changes keep their session and apply the change from their next renewal.
    public func update(profiles newSpecs: [ProfileSpec]) {
        guard !isStopped else { return }
        var seen = Set<String>()
        let specs = newSpecs.filter { seen.insert($0.name).inserted }
        let removed = order.filter { !seen.contains($0) }
        order = specs.map(\.name)
        dependents = Self.dependents(of: specs)
        for name in removed {
            renewals.removeValue(forKey: name)?.task.cancel()
            profiles[name] = nil
            awaitingFirstAttempt.remove(name)
            resumeAttemptWaiters(
                name,
                with: .failure(RefreshFailure(
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
                awaitingFirstAttempt.insert(spec.name)
                send(.tick, to: spec.name)
            }
        }
        settle()
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
            return .failure(RefreshFailure(
                disposition: .needsChange,
                message: "profile '\(name)' does not use MFA (no mfa_serial in its config): nothing to log in to"))
        }
        guard renewals[name] == nil else {
            return .failure(RefreshFailure(
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
    /// reports itself ready.
    public func waitForFirstPass() async {
        guard !isStopped else { return }
        guard allProfilesSettled() else {
            await withCheckedContinuation { firstPassWaiters.append($0) }
            return
        }
        await withCheckedContinuation { afterDeliveries(resume: $0) }
    }

    /// Renewals running right now; tests use it to know when the engine is idle.
    var renewalsInFlight: Int { renewals.count }

    /// `refresh`/`login` calls waiting for a renewal; tests use it to order their steps.
    var requestsWaiting: Int { attemptWaiters.values.reduce(0) { $0 + $1.count } }

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
        let now = wallClock.now()
        let passJustCompleted = !firstPassComplete && allProfilesSettled()
        if passJustCompleted { firstPassComplete = true }
        if let batchStartedAt, !batch.isEmpty {
            let delayed = firstPassComplete && now.timeIntervalSince(batchStartedAt) >= configuration.maximumBatchDelay
            if renewals.isEmpty || batchIsUrgent || passJustCompleted || delayed {
                flushBatch()
            }
        }
        if passJustCompleted {
            let waiters = firstPassWaiters
            firstPassWaiters = []
            waiters.forEach(afterDeliveries(resume:))
        }
        // Profiles' deadlines are checked as they change (`send`); here, the batch's.
        if let timer, let deadline = batchDeadline, deadline < timer.wakeAt {
            timer.task.cancel()
        }
    }

    private func enqueue(_ update: CredentialUpdate) {
        let now = wallClock.now()
        if batch.isEmpty { batchStartedAt = now }
        // A later update for the same profile supersedes an undelivered earlier one.
        if !batchProfiles.insert(update.profile).inserted {
            batch.removeAll { $0.profile == update.profile }
            batchIsUrgent = batch.contains { isUrgent($0, now: now) }
        }
        if isUrgent(update, now: now) { batchIsUrgent = true }
        batch.append(update)
    }

    /// A withdrawal goes out at once, and so do credentials for a profile that has nothing valid
    /// delivered: waiting for other renewals would leave the file and the endpoint without
    /// valid credentials that credd already holds (an STS call stalled on another profile can
    /// take a read timeout, several times over).
    private func isUrgent(_ update: CredentialUpdate, now: Date) -> Bool {
        switch update {
        case .withdrawn:
            return true
        case .published(let profile, _):
            guard firstPassComplete, let delivered = deliveredExpirations[profile] else { return false }
            return delivered <= now.addingTimeInterval(configuration.maximumBatchDelay)
        }
    }

    private func flushBatch() {
        guard !batch.isEmpty else { return }
        deliveries.yield(.batch(batch))
        for update in batch {
            switch update {
            case .published(let profile, let credentials):
                deliveredExpirations[profile] = credentials.expiration ?? .distantFuture
            case .withdrawn(let profile, .removed):
                deliveredExpirations[profile] = nil
            case .withdrawn(let profile, _):
                deliveredExpirations[profile] = .distantPast
            }
        }
        batch = []
        batchProfiles = []
        batchIsUrgent = false
        batchStartedAt = nil
    }

    /// Resumes `waiter` once every batch delivered so far has been applied (at once after
    /// shutdown, when nothing is applied any more).
    private func afterDeliveries(resume waiter: CheckedContinuation<Void, Never>) {
        if case .terminated = deliveries.yield(.applied(waiter)) { waiter.resume() }
    }

    /// When the pending batch goes out even if renewals are still running.
    private var batchDeadline: Date? {
        guard let batchStartedAt, !batch.isEmpty, firstPassComplete else { return nil }
        return batchStartedAt.addingTimeInterval(configuration.maximumBatchDelay)
    }

    private func nextDeadline() -> Date? {
        let earliestProfile = profiles.values.lazy.compactMap(\.machine.nextDeadline).min()
        return [batchDeadline, earliestProfile].compactMap { $0 }.min()
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
        flushBatch()
        deliveries.finish()
        await deliveryTask.value
        let waiters = firstPassWaiters
        firstPassWaiters = []
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
        return await withCheckedContinuation { attemptWaiters[name, default: []].append($0) }
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
            return .failure(failure ?? RefreshFailure(
                disposition: .needsMFA,
                message: "profile '\(name)' needs an MFA code: run `credd login \(name)`"))
        case .pending, .refreshing, .retrying, .expired, .error:
            return .failure(profile.machine.lastError ?? RefreshFailure(
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
            sourceProfile: profile.spec.sourceProfile
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
        case .needsMFA, .error:
            return true
        case .retrying(let retry), .expired(let retry):
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
        let level: Logger.Level = switch status.state {
        case .refreshing: .debug
        case .pending, .fresh: .info
        case .retrying, .needsMFA, .expired, .error: .warning
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
