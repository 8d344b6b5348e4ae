import CreddCore
import CreddTestSupport
import Foundation
import Synchronization
import Testing

@testable import CreddRefresh

@Suite("Refresh engine", .timeLimit(.minutes(1)))
struct RefreshEngineTests {
    @Test("renewals that complete together reach the sink as one batch")
    func batching() async throws {
        let script = Script()
        let harness = EngineHarness(
            [spec("a"), spec("b"), spec("c")],
            handlers: ["a": FakeRenewer.scripted(script), "b": FakeRenewer.scripted(script), "c": FakeRenewer.scripted(script)])
        let running = harness.start()
        try await harness.settle(inFlight: 3)
        #expect(await harness.engine.statuses().map(\.state) == [.refreshing, .refreshing, .refreshing])
        script.respond(.succeed(lifetime: hour))
        script.respond(.succeed(lifetime: hour))
        try await harness.settle(inFlight: 1)
        #expect(harness.sink.batches.isEmpty, "held back while a concurrent renewal runs")
        script.respond(.succeed(lifetime: hour))
        try await harness.settle()
        await harness.engine.waitForFirstPass()
        try await harness.waitForBatches(1)
        let batch = try #require(harness.sink.batches.first)
        #expect(Set(batch.map(\.profile)) == ["a", "b", "c"])
        #expect(harness.sink.batches.count == 1)
        #expect(await harness.engine.statuses().map(\.state) == [.fresh, .fresh, .fresh])
        running.cancel()
        await running.value
    }

    @Test("the keyring's unlock renews the profiles waiting for it at once, and only those")
    func keyringUnlockRenewsNeedsUnlock() async throws {
        let script = Script()
        let locked = RefreshFailure(disposition: .needsUnlock, message: "the keyring holding the keys of a is locked")
        let harness = EngineHarness(
            [spec("a"), spec("b")], handlers: ["a": FakeRenewer.scripted(script), "b": FakeRenewer.always(.succeed(lifetime: hour))])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        script.respond(.fail(locked))
        try await harness.settle()
        #expect(await harness.status("a")?.state == .needsUnlock)

        // No time passes: only the signal starts the renewal.
        #expect(await harness.engine.keyringUnlocked() == ["a"])
        try await harness.settle(inFlight: 1)
        script.respond(.succeed(lifetime: hour))
        try await harness.settle()
        #expect(await harness.status("a")?.state == .fresh)
        #expect(harness.renewer.calls(for: "a").count == 2 && harness.renewer.calls(for: "b").count == 1)
        #expect(await harness.engine.keyringUnlocked().isEmpty, "nothing waits any more")
        running.cancel()
        await running.value
    }

    /// "fast" renews at once; "slow" waits for `slow`'s responses.
    private func fastAndSlow(starting names: [String], slow: Script) -> EngineHarness {
        EngineHarness(
            names.map { spec($0) },
            handlers: ["fast": FakeRenewer.always(.succeed(lifetime: hour)), "slow": FakeRenewer.scripted(slow)])
    }

    @Test("after the first pass, a renewal that outlasts the batch delay does not hold back the others")
    func batchDelay() async throws {
        let script = Script()
        let harness = fastAndSlow(starting: ["fast"], slow: script)
        let running = harness.start()
        try await harness.settle()
        try await harness.waitForBatches(1)
        await harness.engine.update(profiles: [spec("fast"), spec("slow")])
        _ = await harness.engine.refresh(["fast"])
        try await harness.settle(inFlight: 1)
        #expect(harness.sink.batches.count == 1)
        let start = harness.now
        // Wake-ups until the 5 s batch delay has passed.
        for _ in 0..<10 where harness.sink.batches.count == 1 {
            guard let wakeAt = harness.wallClock.firstSleeper else { break }
            harness.wallClock.advance(by: wakeAt.timeIntervalSince(harness.now))
            try await harness.settle(inFlight: 1)
        }
        try await harness.waitForBatches(2)
        #expect(harness.sink.batches[1].map(\.profile) == ["fast"])
        #expect(harness.now.timeIntervalSince(start) <= 6)
        running.cancel()
        await running.value
    }

    @Test("credentials for a profile whose delivered ones expired go out at once, not after a concurrent renewal")
    func credentialsReplacingExpiredOnesDoNotWait() async throws {
        let first = Script()
        let second = Script()
        let harness = EngineHarness(
            [spec("a"), spec("b")], handlers: ["a": FakeRenewer.scripted(first), "b": FakeRenewer.scripted(second)])
        let running = harness.start()
        try await harness.settle(inFlight: 2)
        first.respond(.succeed(lifetime: 30 * minute))
        second.respond(.succeed(lifetime: 30 * minute))
        try await harness.settle()
        try await harness.waitForBatches(1)
        // Both renew and stall past expiry, so both are withdrawn.
        harness.wallClock.advance(by: 31 * minute)
        try await harness.settle(inFlight: 2)
        try await harness.waitForBatches(2)
        #expect(Set(harness.sink.batches[1]) == [.withdrawn(profile: "a", reason: .expired), .withdrawn(profile: "b", reason: .expired)])
        let renewedAt = harness.now
        first.respond(.succeed(lifetime: 30 * minute))
        try await harness.settle(inFlight: 1)
        try await harness.waitForBatches(3)
        #expect(harness.sink.batches[2].map(\.profile) == ["a"])
        #expect(harness.now == renewedAt, "no batch delay while b's renewal still runs")
        running.cancel()
        await running.value
    }

    @Test("the first pass is one batch however long it runs, with no wake-up for the batch delay")
    func firstPassIsOneBatch() async throws {
        let script = Script()
        let harness = fastAndSlow(starting: ["fast", "slow"], slow: script)
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        let wakeAt = try #require(harness.wallClock.firstSleeper)
        #expect(wakeAt.timeIntervalSince(harness.now) > 10 * minute, "the next wake-up is fast's renewal")
        harness.wallClock.advance(by: 5 * minute)
        try await harness.settle(inFlight: 1)
        #expect(harness.sink.batches.isEmpty)
        script.respond(.succeed(lifetime: hour))
        await harness.engine.waitForFirstPass()
        #expect(harness.sink.batches.count == 1)
        #expect(Set(harness.sink.batches.first?.map(\.profile) ?? []) == ["fast", "slow"])
        running.cancel()
        await running.value
    }

    @Test("the first pass is over only once the sink has applied its credentials")
    func firstPassWaitsForTheSink() async throws {
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: hour))])
        harness.sink.hold()
        let running = harness.start()
        try await harness.settle()
        let engine = harness.engine
        let sink = harness.sink
        let ready = Task {
            await engine.waitForFirstPass()
            return sink.batches.count
        }
        // The batch waits in the sink; the waiter, queued behind it, cannot have been resumed.
        try await eventually("the batch held in the sink", on: harness.wallClock.changes) { sink.heldCount == 1 }
        harness.sink.release()
        #expect(await ready.value == 1)
        // Later callers wait for nothing more than what was delivered.
        await engine.waitForFirstPass()
        running.cancel()
        await running.value
    }

    @Test("a cancelled wait for the first pass returns at once, while the pass runs or its batch sits in the sink")
    func firstPassWaitIsCancellable() async throws {
        let script = Script()
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.scripted(script)])
        harness.sink.hold()
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        let engine = harness.engine
        let duringRenewal = Task { await engine.waitForFirstPass() }
        duringRenewal.cancel()
        await duringRenewal.value

        script.respond(.succeed(lifetime: hour))
        try await eventually("the batch held in the sink", on: harness.wallClock.changes) { harness.sink.heldCount == 1 }
        let duringDelivery = Task { await engine.waitForFirstPass() }
        duringDelivery.cancel()
        await duringDelivery.value
        // A wait that is not cancelled still ends only once the sink has applied the pass.
        let sink = harness.sink
        let ready = Task {
            await engine.waitForFirstPass()
            return sink.batches.count
        }
        sink.release()
        #expect(await ready.value == 1)
        running.cancel()
        await running.value
    }

    @Test("single flight: a manual refresh during a renewal waits for it instead of starting another")
    func singleFlight() async throws {
        let script = Script()
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.scripted(script)])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        let engine = harness.engine
        let refresh = Task { await engine.refresh(["dev"]) }
        let second = Task { await engine.refresh() }
        try await harness.waitForRequests(2)
        script.respond(.succeed(lifetime: hour))
        let outcomes = await refresh.value + second.value
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            #expect(throws: Never.self) { try outcome.result.get() }
        }
        #expect(harness.renewer.calls.count == 1)
        // With nothing in flight, a refresh renews at once, ahead of schedule.
        script.respond(.fail(.accessDenied))
        let failed = await engine.refresh(["dev", "nope"])
        #expect(failed.map(\.profile) == ["dev", "nope"])
        #expect(failed.first?.result == .failure(.accessDenied))
        guard case .failure(let unknown) = failed.last?.result else {
            Issue.record("an unknown profile must fail")
            return
        }
        #expect(unknown.message.contains("no managed profile named 'nope'"))
        #expect(harness.renewer.calls.count == 2)
        #expect(await harness.status("dev")?.state == .error)
        // The credentials obtained before still serve.
        #expect(await engine.credentials(for: "dev") != nil)
        running.cancel()
        await running.value
    }

    @Test("login returns whether the code worked; a wrong code leaves the profile waiting")
    func login() async throws {
        let harness = EngineHarness(
            [spec("mfa", mfa: true)],
            handlers: [
                "mfa": { call in
                    call.mfaCode?.revealed == "123456" ? .succeed(lifetime: 12 * hour) : .fail(.wrongCode)
                }
            ])
        let running = harness.start()
        try await harness.settle()
        await harness.engine.waitForFirstPass()
        #expect(await harness.status("mfa")?.state == .needsMFA)
        #expect(harness.renewer.calls.isEmpty)

        let wrong = await harness.engine.login(profile: "mfa", code: Secret("654321"))
        #expect(wrong.map(\.state) == .failure(.wrongCode))
        #expect(await harness.status("mfa")?.state == .needsMFA)
        #expect(await harness.status("mfa")?.lastError == RefreshFailure.wrongCode.message)

        let right = try await harness.engine.login(profile: "mfa", code: Secret("123456")).get()
        #expect(right.state == .fresh)
        #expect(right.expiration == harness.now.addingTimeInterval(12 * hour))
        #expect(await harness.engine.credentials(for: "mfa")?.accessKeyId == "ASIAMFA2")

        let unknown = await harness.engine.login(profile: "other", code: Secret("123456"))
        #expect((try? unknown.get()) == nil)
        running.cancel()
        await running.value
    }

    @Test("login is refused for a profile without MFA")
    func loginWithoutMFA() async throws {
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: hour))])
        let running = harness.start()
        try await harness.settle()
        guard case .failure(let failure) = await harness.engine.login(profile: "dev", code: Secret("123456")) else {
            Issue.record("login must fail")
            return
        }
        #expect(failure.message.contains("does not use MFA"))
        #expect(harness.renewer.calls.count == 1)
        running.cancel()
        await running.value
    }

    @Test("update: added profiles start, a new identity renews, settings-only changes wait, removed ones are withdrawn")
    func update() async throws {
        let succeed = FakeRenewer.always(.succeed(lifetime: hour))
        let harness = EngineHarness([spec("a"), spec("b")], handlers: ["a": succeed, "b": succeed, "c": succeed])
        let running = harness.start()
        try await harness.settle()
        try await harness.waitForBatches(1)
        #expect(harness.renewer.calls.count == 2)

        await harness.engine.update(profiles: [spec("a", version: 2), spec("b", version: 2, identityVersion: 1), spec("c")])
        try await harness.settle()
        #expect(harness.renewer.calls(for: "a").count == 2)
        #expect(harness.renewer.calls(for: "b").count == 1)
        #expect(harness.renewer.calls(for: "c").count == 1)
        // The old session of a leaves service at once, before a's and c's new ones go out.
        try await harness.waitForBatches(3)
        #expect(harness.sink.batches[1] == [.withdrawn(profile: "a", reason: .expired)])
        let published = harness.sink.batches.dropFirst(2).joined().map(\.profile)
        #expect(Set(published) == ["a", "c"])
        #expect(published.count == 2)

        let before = harness.sink.batches.count
        await harness.engine.update(profiles: [spec("c"), spec("b")])
        try await harness.waitForBatches(before + 1)
        #expect(harness.sink.batches.last == [.withdrawn(profile: "a", reason: .removed)])
        #expect(await harness.engine.statuses().map(\.name) == ["c", "b"])
        #expect(await harness.engine.credentials(for: "a") == nil)
        running.cancel()
        await running.value
    }

    @Test("update: a role moved to another source is started by that source's renewal")
    func updateMovesDependent() async throws {
        let stuck = Script()
        let harness = EngineHarness(
            [spec("a"), spec("role", source: "a")],
            handlers: [
                "a": FakeRenewer.scripted(stuck), "b": FakeRenewer.always(.succeed(lifetime: hour)),
                "role": FakeRenewer.always(.succeed(lifetime: hour)),
            ])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        #expect(harness.renewer.calls(for: "role").isEmpty, "waits for a, which never answers")

        await harness.engine.update(profiles: [spec("a"), spec("b"), spec("role", source: "b", version: 2)])
        try await harness.settle(inFlight: 1)
        let roleCalls = harness.renewer.calls(for: "role")
        #expect(roleCalls.count == 1)
        let fromB = await harness.engine.credentials(for: "b")
        #expect(fromB != nil)
        #expect(roleCalls.first?.source == fromB, "signed with b's session")
        #expect(await harness.status("role")?.state == .fresh)
        running.cancel()
        await running.value
    }

    @Test("removing a profile mid-renewal cancels it and answers its waiters")
    func removeDuringRenewal() async throws {
        let script = Script()
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.scripted(script)])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        let engine = harness.engine
        let refresh = Task { await engine.refresh(["dev"]) }
        try await harness.waitForRequests(1)
        await engine.update(profiles: [])
        let outcome = try #require(await refresh.value.first)
        guard case .failure(let failure) = outcome.result else {
            Issue.record("a removed profile's refresh must fail")
            return
        }
        #expect(failure.message.contains("removed from the config"))
        try await harness.waitForBatches(1)
        #expect(harness.sink.batches == [[.withdrawn(profile: "dev", reason: .removed)]])
        running.cancel()
        await running.value
    }

    @Test("cancelling run stops renewals in flight, answers waiters and returns")
    func cancellation() async throws {
        let script = Script()
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.scripted(script)])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        let engine = harness.engine
        let refresh = Task { await engine.refresh(["dev"]) }
        try await harness.waitForRequests(1)
        running.cancel()
        await running.value
        let outcome = try #require(await refresh.value.first)
        guard case .failure(let failure) = outcome.result else {
            Issue.record("a cancelled renewal must not report success")
            return
        }
        #expect(failure.message.contains("shutting down"))
        #expect(script.parkedCount == 0, "the renewal in flight was cancelled, not left running")
        #expect(harness.wallClock.firstSleeper == nil)
        await engine.waitForFirstPass()
        #expect(await engine.refresh(["dev"]).first.map { (try? $0.result.get()) == nil } == true)
    }

    @Test("a laptop waking after expiry withdraws the old credentials and renews at once")
    func wakeAfterSuspend() async throws {
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: hour))])
        let running = harness.start()
        try await harness.settle()
        try await harness.waitForBatches(1)
        // Suspended for 3 hours: the wall clock passes the sleep's deadline, which ends it.
        harness.wallClock.advance(by: 3 * hour)
        try await harness.settle()
        #expect(harness.renewer.calls.count == 2)
        let served = try #require(await harness.engine.credentials(for: "dev"))
        #expect(served.expiration == harness.now.addingTimeInterval(hour))
        try await harness.waitForBatches(3)
        #expect(harness.sink.batches[1] == [.withdrawn(profile: "dev", reason: .expired)])
        #expect(harness.sink.batches[2].map(\.profile) == ["dev"])
        running.cancel()
        await running.value
    }

    @Test("the idle run loop sleeps until the next renewal, with no wake-ups in between")
    func sleepsUntilNextDeadline() async throws {
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: 12 * hour))])
        let running = harness.start()
        try await harness.settle()
        let nextRefresh = try #require(await harness.status("dev")?.nextRefresh)
        #expect(harness.wallClock.firstSleeper == nextRefresh)
        try await harness.step()
        #expect(harness.now == nextRefresh)
        #expect(harness.renewer.calls.count == 2)
        running.cancel()
        await running.value
    }

    @Test("a wall clock set backwards or forwards wakes the engine, which plans again from the new time")
    func clockSet() async throws {
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: hour))])
        let running = harness.start()
        try await harness.settle()
        let nextRefresh = try #require(await harness.status("dev")?.nextRefresh)
        harness.wallClock.set(harness.now.addingTimeInterval(-hour))
        try await harness.settle()
        #expect(harness.renewer.calls.count == 1, "a clock set backwards renews no earlier")
        #expect(harness.wallClock.firstSleeper == nextRefresh)
        harness.wallClock.set(nextRefresh.addingTimeInterval(minute))
        try await harness.settle()
        #expect(harness.renewer.calls.count == 2, "a clock set past the deadline renews at once")
        running.cancel()
        await running.value
    }
}
