import CreddCore
import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import CreddRefresh

/// What a renewal should answer.
enum RenewalResponse: Sendable {
    case succeed(lifetime: TimeInterval)
    case fail(RefreshFailure)
}

/// Answers renewals one by one as the test releases them; calls stay parked until then.
final class Script: Sendable {
    private struct State {
        var parked: [(id: Int, continuation: CheckedContinuation<RenewalResponse, Never>)] = []
        var ready: [RenewalResponse] = []
        var cancelled: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    var parkedCount: Int { state.withLock { $0.parked.count } }

    func nextResponse() async -> RenewalResponse {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let cancelled = RenewalResponse.fail(RefreshFailure(disposition: .retryable, message: "cancelled"))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> RenewalResponse? in
                    if state.cancelled.remove(id) != nil { return cancelled }
                    if !state.ready.isEmpty { return state.ready.removeFirst() }
                    state.parked.append((id, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let parked = state.withLock { state -> CheckedContinuation<RenewalResponse, Never>? in
                guard let index = state.parked.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.parked.remove(at: index).continuation
            }
            parked?.resume(returning: cancelled)
        }
    }

    /// Releases the longest-parked call, or the next one to arrive.
    func respond(_ response: RenewalResponse) {
        let parked = state.withLock { state -> CheckedContinuation<RenewalResponse, Never>? in
            guard !state.parked.isEmpty else {
                state.ready.append(response)
                return nil
            }
            return state.parked.removeFirst().continuation
        }
        parked?.resume(returning: response)
    }
}

/// A renewer whose behaviour each test spells out per profile; any other call is a test failure.
final class FakeRenewer: CredentialRenewer {
    struct Call: Sendable {
        let profile: String
        let source: AWSCredentials?
        let mfaCode: Secret?
    }

    typealias Handler = @Sendable (Call) async -> RenewalResponse

    private let handlers: [String: Handler]
    private let wallClock: ManualWallClock
    private let recorded = Mutex<[Call]>([])

    init(wallClock: ManualWallClock, handlers: [String: Handler]) {
        self.wallClock = wallClock
        self.handlers = handlers
    }

    var calls: [Call] { recorded.withLock { $0 } }
    func calls(for profile: String) -> [Call] { calls.filter { $0.profile == profile } }

    func renew(profile: ProfileSpec, source: AWSCredentials?, mfaCode: Secret?) async throws(RefreshFailure)
        -> AWSCredentials
    {
        let call = Call(profile: profile.name, source: source, mfaCode: mfaCode)
        recorded.withLock { $0.append(call) }
        guard let handler = handlers[profile.name] else {
            Issue.record("unexpected renewal of profile '\(profile.name)'")
            throw RefreshFailure(disposition: .needsChange, message: "unexpected renewal")
        }
        switch await handler(call) {
        case .succeed(let lifetime):
            let count = calls(for: profile.name).count
            return sessionCredentials(
                expiring: wallClock.now().addingTimeInterval(lifetime), key: "ASIA\(profile.name.uppercased())\(count)")
        case .fail(let failure):
            throw failure
        }
    }

    static func always(_ response: RenewalResponse) -> Handler { { _ in response } }
    static func scripted(_ script: Script) -> Handler { { _ in await script.nextResponse() } }
}

/// Records every batch the engine delivers; while held, `apply` does not return (a slow
/// credentials-file write). Reports each batch applied or held to `changes`.
final class RecordingSink: CredentialSink {
    private struct State {
        var batches: [[CredentialUpdate]] = []
        var held = false
        var parked: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let changes: ChangeSignal
    var batches: [[CredentialUpdate]] { state.withLock { $0.batches } }
    /// Batches waiting for `release()`.
    var heldCount: Int { state.withLock { $0.parked.count } }

    init(changes: ChangeSignal) {
        self.changes = changes
    }

    func hold() { state.withLock { $0.held = true } }

    func release() {
        let parked = state.withLock { state in
            state.held = false
            defer { state.parked = [] }
            return state.parked
        }
        parked.forEach { $0.resume() }
    }

    func apply(_ batch: [CredentialUpdate]) async {
        await withCheckedContinuation { continuation in
            let parked = state.withLock { state in
                if state.held { state.parked.append(continuation) }
                return state.held
            }
            if parked { changes.changed() } else { continuation.resume() }
        }
        state.withLock { $0.batches.append(batch) }
        changes.changed()
    }
}

/// An engine wired to test doubles, plus the helpers that step it. Its waits are event-driven:
/// they check again whenever the clock's sleepers change (the engine's run loop goes to sleep
/// or wakes), the sink takes a batch, or the engine reports a state change, all of which go to
/// `wallClock.changes`.
struct EngineHarness {
    let wallClock: ManualWallClock
    let renewer: FakeRenewer
    let sink: RecordingSink
    let logs = InMemoryLogHandler()
    let engine: RefreshEngine

    /// - Parameter wallClock: shared with an earlier harness to simulate a daemon restart.
    init(
        _ profiles: [ProfileSpec], random: FixedRandom = .lowest, wallClock: ManualWallClock = ManualWallClock(epoch),
        handlers: [String: FakeRenewer.Handler]
    ) {
        self.wallClock = wallClock
        sink = RecordingSink(changes: wallClock.changes)
        renewer = FakeRenewer(wallClock: wallClock, handlers: handlers)
        let logger = Logger.recording(into: logs, changes: wallClock.changes)
        engine = RefreshEngine(
            profiles: profiles, renewer: renewer, sink: sink, wallClock: wallClock,
            random: random, logger: logger)
    }

    var now: Date { wallClock.now() }

    /// Starts the engine; the returned task runs it until cancelled.
    func start() -> Task<Void, Never> {
        let (engine, changes) = (engine, wallClock.changes)
        // Ends with the engine, which finishes the stream.
        Task { for await _ in engine.statusChanges { changes.changed() } }
        return Task { await engine.run() }
    }

    /// Waits until the run loop sleeps with `inFlight` profiles renewing (in the `refreshing`
    /// state, which the engine holds exactly while a renewal runs) and nothing else pending.
    func settle(inFlight: Int = 0) async throws {
        try await eventually("the engine to sleep with \(inFlight) renewals running", timeout: .seconds(20), on: wallClock.changes) {
            guard let sleeper = wallClock.firstSleeper else { return false }
            let renewing = await engine.statuses().count { $0.state == .refreshing }
            return renewing == inFlight && wallClock.firstSleeper == sleeper
        }
    }

    /// Waits until `count` refresh or login calls in all have waited for a renewal in flight
    /// (the engine logs each).
    func waitForRequests(_ count: Int) async throws {
        try await eventually("\(count) waiting requests", timeout: .seconds(20), on: wallClock.changes) {
            logs.entries.count { $0.message.description == "request waits for the renewal in flight" } >= count
        }
    }

    /// Waits until the sink received `count` batches (deliveries run on their own task).
    func waitForBatches(_ count: Int) async throws {
        try await eventually("\(count) batches, got \(sink.batches.count)", timeout: .seconds(20), on: wallClock.changes) {
            sink.batches.count >= count
        }
    }

    /// Advances the clock to the run loop's next wake-up and lets the engine settle again.
    func step() async throws {
        try await settle()
        let wakeAt = try #require(wallClock.firstSleeper)
        wallClock.advance(by: wakeAt.timeIntervalSince(now))
        try await settle()
    }

    func status(_ name: String) async -> ProfileStatus? {
        await engine.statuses().first { $0.name == name }
    }
}
