import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddRefresh

@Suite("Refresh engine: sessions survive", .timeLimit(.minutes(1)))
struct SessionAdoptionEngineTests {
    private static let keptMFA = sessionCredentials(expiring: epoch.addingTimeInterval(10 * hour), key: "ASIAKEPTMFA")

    /// `mfa` waits for typed codes; `dev` is a role chained on it.
    private func chain() -> EngineHarness {
        EngineHarness(
            [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            handlers: [
                "mfa": { _ in .succeed(lifetime: 12 * hour) },
                "dev": FakeRenewer.always(.succeed(lifetime: hour)),
            ])
    }

    @Test("an adopted MFA session is served before the first pass, and its dependent renews with it")
    func adoptionAtStart() async throws {
        let harness = chain()
        #expect(await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch.addingTimeInterval(-2 * hour)))
        let running = harness.start()
        await harness.engine.waitForFirstPass()
        try await harness.settle()
        #expect(await harness.status("mfa")?.state == .fresh)
        #expect(await harness.status("dev")?.state == .fresh)
        #expect(harness.renewer.calls(for: "mfa").isEmpty, "no code asked, no STS call for the adopted session")
        #expect(harness.renewer.calls(for: "dev").first?.source == Self.keptMFA)
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        let published = harness.sink.batches.flatMap { $0 }
        #expect(published.contains(.published(profile: "mfa", credentials: Self.keptMFA)))
        running.cancel()
        await running.value
    }

    @Test("before run(), deliverQueued hands adopted sessions to the sink at once, and only once")
    func adoptedSessionsDeliveredBeforeRun() async throws {
        let harness = chain()
        #expect(await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch.addingTimeInterval(-2 * hour)))
        #expect(harness.sink.batches.isEmpty, "nothing is delivered before run()")
        await harness.engine.deliverQueued()
        #expect(harness.sink.batches == [[.published(profile: "mfa", credentials: Self.keptMFA)]])
        let running = harness.start()
        await harness.engine.waitForFirstPass()
        try await harness.settle()
        #expect(await harness.status("dev")?.state == .fresh)
        #expect(!harness.sink.batches.dropFirst().joined().contains { $0.profile == "mfa" })
        running.cancel()
        await running.value
    }

    @Test("the first pass does not wait for STS for an adopted profile")
    func readyWithoutSTS() async throws {
        let script = Script()
        let harness = EngineHarness([spec("base")], handlers: ["base": FakeRenewer.scripted(script)])
        // Past its renewal point: it renews at once, but the adopted session already settles it.
        let kept = sessionCredentials(expiring: epoch.addingTimeInterval(15 * minute))
        await harness.engine.adopt(profile: "base", credentials: kept, obtainedAt: epoch.addingTimeInterval(-45 * minute))
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        await harness.engine.waitForFirstPass()
        #expect(await harness.engine.credentials(for: "base") == kept)
        script.respond(.succeed(lifetime: hour))
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "base") != kept)
        running.cancel()
        await running.value
    }

    @Test("credd refresh keeps the adopted MFA session in service and renews its dependents with it")
    func refreshKeepsMFASession() async throws {
        let harness = chain()
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        let outcomes = await harness.engine.refresh()
        #expect(outcomes.map { (try? $0.result.get())?.state } == [.fresh, .fresh])
        #expect(harness.renewer.calls(for: "mfa").isEmpty)
        #expect(harness.renewer.calls(for: "dev").count == 2)
        #expect(harness.renewer.calls(for: "dev").allSatisfy { $0.source == Self.keptMFA })
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        running.cancel()
        await running.value
    }

    @Test("a reload that changes settings only keeps every session; an identity change renews that profile")
    func reloadKeepsSessions() async throws {
        let harness = chain()
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        let devBefore = await harness.engine.credentials(for: "dev")

        // duration_seconds, mfa_process removed, region, …: the fingerprint changes, not the identity.
        await harness.engine.update(profiles: [
            spec("mfa", mfa: true, version: 2, identityVersion: 1), spec("dev", source: "mfa", version: 2, identityVersion: 1),
        ])
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        #expect(await harness.engine.credentials(for: "dev") == devBefore)
        #expect(harness.renewer.calls(for: "dev").count == 1)

        // dev's role_arn changed: its session goes, mfa's stays.
        await harness.engine.update(profiles: [
            spec("mfa", mfa: true, version: 2, identityVersion: 1), spec("dev", source: "mfa", version: 3),
        ])
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        #expect(harness.renewer.calls(for: "dev").count == 2)
        #expect(await harness.engine.credentials(for: "dev") != devBefore)
        #expect(harness.sink.batches.flatMap { $0 }.contains(.withdrawn(profile: "dev", reason: .expired)))

        // mfa_serial changed: the MFA session goes too, and a code is needed.
        await harness.engine.update(profiles: [spec("mfa", mfa: true, version: 4), spec("dev", source: "mfa", version: 4)])
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == nil)
        #expect(await harness.status("mfa")?.state == .needsMFA)
        #expect(await harness.engine.credentials(for: "dev") == nil)
        running.cancel()
        await running.value
    }

    @Test("a profile a reload removed takes its session back when it returns under the same identity, within the memory")
    func removedProfileTakesItsSessionBack() async throws {
        let harness = chain()
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        let devBefore = try #require(await harness.engine.credentials(for: "dev"))
        let both = [spec("mfa", mfa: true), spec("dev", source: "mfa")]

        // A config read mid-rewrite had neither: both leave service.
        await harness.engine.update(profiles: [])
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == nil)
        try await eventually("mfa withdrawn", timeout: .seconds(20), on: harness.wallClock.changes) {
            harness.sink.batches.flatMap { $0 }.contains(.withdrawn(profile: "mfa", reason: .removed))
        }

        // The rest of the file arrives: the same sessions are back, with no STS call or code.
        harness.wallClock.advance(by: 5 * minute)
        await harness.engine.update(profiles: both)
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        #expect(await harness.engine.credentials(for: "dev") == devBefore)
        #expect(await harness.status("mfa")?.state == .fresh)
        #expect(await harness.status("dev")?.state == .fresh)
        #expect(harness.renewer.calls(for: "mfa").isEmpty)
        #expect(harness.renewer.calls(for: "dev").count == 1)
        try await eventually("mfa published again", timeout: .seconds(20), on: harness.wallClock.changes) {
            harness.sink.batches.last?.contains(.published(profile: "mfa", credentials: Self.keptMFA)) == true
        }

        // Removed for longer than the memory: a new profile, which waits for a code.
        await harness.engine.update(profiles: [])
        try await harness.settle()
        harness.wallClock.advance(by: RefreshEngine.Configuration().removedSessionMemory + 1)
        try await harness.settle()
        await harness.engine.update(profiles: both)
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == nil)
        #expect(await harness.status("mfa")?.state == .needsMFA)
        running.cancel()
        await running.value
    }

    @Test("a profile back under another identity, or after its session expired, renews")
    func removedSessionOnlyForTheSameIdentity() async throws {
        let harness = chain()
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        let devBefore = try #require(await harness.engine.credentials(for: "dev"))

        // A new MFA device: not the session's identity, so a code is needed; dev, chained on
        // it, has a new identity too.
        await harness.engine.update(profiles: [])
        try await harness.settle()
        await harness.engine.update(profiles: [spec("mfa", mfa: true, version: 2), spec("dev", source: "mfa", version: 2)])
        try await harness.settle()
        #expect(await harness.status("mfa")?.state == .needsMFA)
        #expect(await harness.engine.credentials(for: "mfa") == nil)
        #expect(await harness.engine.credentials(for: "dev") != devBefore)

        // dev alone leaves and comes back after its session expired: it renews.
        let login = await harness.engine.login(profile: "mfa", code: Secret("123456"))
        #expect((try? login.get())?.state == .fresh)
        try await harness.settle()
        let devRenewed = try #require(await harness.engine.credentials(for: "dev"))
        let calls = harness.renewer.calls(for: "dev").count
        await harness.engine.update(profiles: [spec("mfa", mfa: true, version: 2)])
        try await harness.settle()
        harness.wallClock.advance(by: try #require(devRenewed.expiration).timeIntervalSince(harness.now) + 1)
        await harness.engine.update(profiles: [spec("mfa", mfa: true, version: 2), spec("dev", source: "mfa", version: 2)])
        try await harness.settle()
        #expect(harness.renewer.calls(for: "dev").count == calls + 1)
        #expect(await harness.engine.credentials(for: "dev") != devRenewed)
        running.cancel()
        await running.value
    }

    @Test("a profile a reload adds adopts the session kept for it, before any renewal; an expired one is renewed")
    func addedProfileAdoptsItsKeptSession() async throws {
        let harness = EngineHarness([], handlers: ["dev": FakeRenewer.always(.succeed(lifetime: hour))])
        let running = harness.start()
        try await harness.settle()
        let keptDev = sessionCredentials(expiring: epoch.addingTimeInterval(30 * minute), key: "ASIAKEPTDEV")
        let expiredDev = sessionCredentials(expiring: epoch.addingTimeInterval(-minute), key: "ASIAOLDDEV")
        // A daemon started with an empty config: the config arrives with mfa and dev.
        await harness.engine.update(
            profiles: [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            kept: [
                "mfa": RefreshEngine.KeptSession(credentials: Self.keptMFA, obtainedAt: epoch.addingTimeInterval(-hour)),
                "dev": RefreshEngine.KeptSession(credentials: keptDev, obtainedAt: epoch.addingTimeInterval(-30 * minute)),
            ])
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == Self.keptMFA)
        #expect(await harness.engine.credentials(for: "dev") == keptDev)
        #expect(await harness.status("mfa")?.state == .fresh)
        #expect(harness.renewer.calls.isEmpty, "no code asked, nothing renewed")

        await harness.engine.update(profiles: [spec("mfa", mfa: true)])
        try await harness.settle()
        harness.wallClock.advance(by: RefreshEngine.Configuration().removedSessionMemory + 1)
        await harness.engine.update(
            profiles: [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            kept: ["dev": RefreshEngine.KeptSession(credentials: expiredDev, obtainedAt: epoch.addingTimeInterval(-hour))])
        try await harness.settle()
        #expect(harness.renewer.calls(for: "dev").count == 1)
        #expect(await harness.engine.credentials(for: "dev") != expiredDev)
        running.cancel()
        await running.value
    }

    @Test("a dependent's ExpiredToken on an adopted source drops that session and asks for a code")
    func rejectedAdoptedSource() async throws {
        let harness = EngineHarness(
            [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            handlers: ["dev": FakeRenewer.always(.fail(.sourceTokenExpired))])
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        #expect(await harness.engine.credentials(for: "mfa") == nil)
        #expect(await harness.status("mfa")?.state == .needsMFA)
        #expect(harness.sink.batches.flatMap { $0 }.contains(.withdrawn(profile: "mfa", reason: .expired)))
        #expect(harness.renewer.calls(for: "dev").count == 1)
        #expect(await harness.status("dev")?.state == .retrying)
        running.cancel()
        await running.value
    }

    @Test("republish delivers the sessions in service again, unchanged")
    func republish() async throws {
        let harness = chain()
        await harness.engine.adopt(profile: "mfa", credentials: Self.keptMFA, obtainedAt: epoch)
        let running = harness.start()
        try await harness.settle()
        let before = harness.sink.batches.count
        await harness.engine.republish(["mfa", "unknown"])
        try await harness.waitForBatches(before + 1)
        #expect(harness.sink.batches.last == [.published(profile: "mfa", credentials: Self.keptMFA)])
        #expect(harness.renewer.calls(for: "mfa").isEmpty)
        running.cancel()
        await running.value
    }

    @Test("a profile in error shows its next retry and heals by itself once AWS is fixed")
    func errorHeals() async throws {
        let script = Script()
        let harness = EngineHarness([spec("dev")], handlers: ["dev": FakeRenewer.scripted(script)])
        let running = harness.start()
        try await harness.settle(inFlight: 1)
        script.respond(.fail(.accessDenied))
        try await harness.settle()
        let status = try #require(await harness.status("dev"))
        #expect(status.state == .error)
        #expect(status.nextRefresh == harness.now.addingTimeInterval(5 * minute))
        script.respond(.succeed(lifetime: hour))
        try await harness.step()
        #expect(await harness.status("dev")?.state == .fresh)
        running.cancel()
        await running.value
    }
}
