import CreddCore
import CreddTestSupport
import Foundation
import Synchronization
import Testing

@testable import CreddRefresh

@Suite("Refresh engine: simulations and logs", .timeLimit(.minutes(2)))
struct SimulationTests {
    @Test("a simulated day: a 1 h role on a 12 h MFA session, served with > 15 min left throughout")
    func simulatedDay() async throws {
        let harness = EngineHarness(
            [spec("mfa", mfa: true), spec("dev", source: "mfa")],
            random: .lowest,
            handlers: [
                "mfa": FakeRenewer.always(.succeed(lifetime: 12 * hour)),
                "dev": FakeRenewer.always(.succeed(lifetime: hour)),
            ])
        let running = harness.start()
        try await harness.settle()
        var logins = 0
        var wakeUps = 0
        while harness.now < epoch.addingTimeInterval(24 * hour) {
            // A user who answers every prompt at once.
            if await harness.status("mfa")?.state == .needsMFA {
                let result = await harness.engine.login(profile: "mfa", code: Secret("123456"))
                #expect((try? result.get()) != nil)
                logins += 1
                try await harness.settle()
            }
            for name in ["mfa", "dev"] {
                let served = await harness.engine.credentials(for: name)
                let remaining = served?.remainingLifetime(at: harness.now) ?? 0
                #expect(remaining > 15 * minute, "\(name) at \(harness.now.timeIntervalSince(epoch) / hour) h")
            }
            try await harness.step()
            wakeUps += 1
        }
        // Codes at 0 h, 8 h and 16 h.
        #expect(logins == 3)
        #expect(harness.renewer.calls(for: "mfa").count == 3)
        // One role renewal per 40 minutes: 36 in 24 hours, plus the first.
        let roleRenewals = harness.renewer.calls(for: "dev").count
        #expect((36...37).contains(roleRenewals))
        // 30-second chunks: about 2,880 wake-ups in a day, no more.
        #expect(wakeUps <= 2_900)
        // Every role renewal used the MFA session's credentials current at the time.
        #expect(harness.renewer.calls(for: "dev").allSatisfy { $0.source != nil })
        running.cancel()
        await running.value
    }

    @Test("a simulated day with jitter keeps the same guarantee", arguments: [UInt64(1), 2, 3])
    func simulatedDayWithJitter(seed: UInt64) async throws {
        var seeded = SplitMix64(seed: seed)
        let harness = EngineHarness(
            [spec("mfa", mfa: true, mfaProcess: true), spec("dev", source: "mfa")],
            random: FixedRandom(word: seeded.next()),
            handlers: [
                "mfa": FakeRenewer.always(.succeed(lifetime: 12 * hour)),
                "dev": FakeRenewer.always(.succeed(lifetime: hour)),
            ])
        let running = harness.start()
        try await harness.settle()
        while harness.now < epoch.addingTimeInterval(24 * hour) {
            for name in ["mfa", "dev"] {
                let remaining = await harness.engine.credentials(for: name)?.remainingLifetime(at: harness.now) ?? 0
                #expect(remaining > 15 * minute)
            }
            try await harness.step()
        }
        let roleRenewals = harness.renewer.calls(for: "dev").count
        #expect((37...44).contains(roleRenewals))
        running.cancel()
        await running.value
    }

    /// The last credentials the sink received per profile: what the credentials file holds.
    private func lastPublished(_ harness: EngineHarness) -> [String: AWSCredentials] {
        var published: [String: AWSCredentials] = [:]
        for case .published(let name, let credentials) in harness.sink.batches.joined() {
            published[name] = credentials
        }
        return published
    }

    /// A day from 08:00 with 3 restarts, 2 reloads, a `credd refresh` and a key rotation, for
    /// an MFA session of `mfaLifetime` and a 1-hour role on it. A restart is a new engine that
    /// adopts what the previous one published, as the daemon adopts from the credentials file
    /// (`SessionAdoption`, start estimated from the lifetime); an edit that keeps the identity
    /// is a fingerprint-only change, as `ProfileSpecs` makes it. The user types a code whenever
    /// one is asked; the codes are counted, and the role must be served throughout.
    @Test(
        "a day of restarts, reloads, a refresh and a rotation asks for codes only on the session's schedule",
        arguments: [(36 * hour, [0.0]), (12 * hour, [0.0, 8, 16])])
    func dayOfEverydayEvents(mfaLifetime: TimeInterval, expectedCodesAt: [Double]) async throws {
        let clock = ManualWallClock(epoch)
        var version = 1
        func specs() -> [ProfileSpec] {
            [spec("mfa", mfa: true, version: version, identityVersion: 1), spec("dev", source: "mfa", version: version, identityVersion: 1)]
        }
        func makeHarness() -> EngineHarness {
            EngineHarness(
                specs(), wallClock: clock,
                handlers: [
                    "mfa": FakeRenewer.always(.succeed(lifetime: mfaLifetime)),
                    "dev": FakeRenewer.always(.succeed(lifetime: hour)),
                ])
        }
        var harness = makeHarness()
        var running = harness.start()
        try await harness.settle()
        // Hours after 08:00 → what happens.
        let events: [Double: String] = [1: "restart", 2: "reload", 3: "refresh", 4: "restart", 5: "rotation", 6: "reload", 7: "restart"]
        var done: Set<Double> = []
        var codesAt: [Double] = []
        while harness.now < epoch.addingTimeInterval(24 * hour) {
            let hours = harness.now.timeIntervalSince(epoch) / hour
            if await harness.status("mfa")?.state == .needsMFA {
                #expect((try? await harness.engine.login(profile: "mfa", code: Secret("123456")).get()) != nil)
                codesAt.append(hours)
                try await harness.settle()
            }
            if hours > 0.1 {
                let remaining = await harness.engine.credentials(for: "dev")?.remainingLifetime(at: harness.now) ?? 0
                #expect(remaining > 15 * minute, "dev at \(hours) h")
            }
            for (at, event) in events where at <= hours && !done.contains(at) {
                done.insert(at)
                switch event {
                case "restart":
                    let kept = lastPublished(harness)
                    running.cancel()
                    await running.value
                    harness = makeHarness()
                    for (name, credentials) in kept {
                        let lifetime = name == "mfa" ? mfaLifetime : hour
                        let expiration = try #require(credentials.expiration)
                        await harness.engine.adopt(profile: name, credentials: credentials, obtainedAt: expiration.addingTimeInterval(-lifetime))
                    }
                    running = harness.start()
                case "refresh":
                    _ = await harness.engine.refresh()
                default:
                    // A reload after an edit, or after a rotation put a new key in: settings change.
                    version += 1
                    await harness.engine.update(profiles: specs())
                }
                try await harness.settle()
            }
            if let next = harness.wallClock.firstSleeper, let event = events.keys.filter({ !done.contains($0) }).min() {
                let eventAt = epoch.addingTimeInterval(event * hour)
                if eventAt < next {
                    harness.wallClock.advance(by: eventAt.timeIntervalSince(harness.now))
                    try await harness.settle()
                    continue
                }
            }
            try await harness.step()
        }
        #expect(done.count == events.count)
        #expect(codesAt.map { $0.rounded() } == expectedCodesAt)
        running.cancel()
        await running.value
    }

    @Test("logs have one line per state change, tagged with the profile, and never a secret")
    func logsNeverLeakSecrets() async throws {
        let failures = Mutex(2)
        let harness = EngineHarness(
            [spec("mfa", mfa: true), spec("dev")],
            handlers: [
                "mfa": { call in
                    call.mfaCode?.revealed == "123456" ? .succeed(lifetime: 12 * hour) : .fail(.wrongCode)
                },
                "dev": { _ in
                    failures.withLock { remaining in
                        defer { remaining -= 1 }
                        return remaining > 0 ? .fail(.throttled) : .succeed(lifetime: hour)
                    }
                },
            ])
        let running = harness.start()
        try await harness.settle()
        _ = await harness.engine.login(profile: "mfa", code: Secret("987654"))
        _ = await harness.engine.login(profile: "mfa", code: Secret("123456"))
        while harness.renewer.calls(for: "dev").count < 3 {
            try await harness.step()
        }
        try await harness.settle()
        running.cancel()
        await running.value

        let lines = harness.logs.renderedLines
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.contains(fakeSecretValue))
            #expect(!line.contains(fakeTokenValue))
            #expect(!line.contains("123456"))
            #expect(!line.contains("987654"))
        }
        let stateLines = lines.filter { $0.contains("credd.state=") }
        #expect(stateLines.allSatisfy { $0.contains("credd.profile=") })
        #expect(stateLines.allSatisfy { line in ["mfa", "dev"].contains { line.contains(" \($0): ") && line.contains("credd.profile=\($0)") } })
        let devStates = stateLines.filter { $0.contains("credd.profile=dev") }.compactMap {
            $0.components(separatedBy: "credd.state=").last?.components(separatedBy: " ").first
        }
        #expect(devStates == ["refreshing", "retrying", "refreshing", "retrying", "refreshing", "fresh"])
        #expect(stateLines.contains { $0.contains("credd.error=AccessDenied: MFA code rejected") })
    }
}

@Suite("Status summary")
struct StatusSummaryTests {
    func status(_ name: String, _ state: ProfileState, next: Date? = nil) -> ProfileStatus {
        ProfileStatus(
            name: name, state: state, expiration: nil, nextRefresh: next, lastRefresh: nil, lastError: nil,
            sourceProfile: nil)
    }

    @Test("counts states and names the next refresh in the given time zone")
    func summary() throws {
        let berlinZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let berlin = { berlinZone.secondsFromGMT(for: $0) }
        let utc = { (_: Date) in 0 }
        let statuses = [
            status("a", .fresh, next: epoch.addingTimeInterval(14 * hour + 5 * minute)),
            status("b", .fresh, next: epoch.addingTimeInterval(15 * hour)),
            status("c", .needsMFA),
            status("d", .fresh, next: epoch.addingTimeInterval(20 * hour)),
        ]
        #expect(ProfileStatus.summary(of: statuses, now: epoch, secondsFromGMT: utc) == "3 fresh, 1 needs MFA (c: credd login c); next refresh 14:05")
        #expect(
            ProfileStatus.summary(of: statuses, now: epoch, secondsFromGMT: berlin) == "3 fresh, 1 needs MFA (c: credd login c); next refresh 15:05")
        #expect(ProfileStatus.summary(of: [status("a", .error)], now: epoch, secondsFromGMT: utc) == "1 failed (a: credd refresh a)")
        #expect(ProfileStatus.summary(of: [], now: epoch, secondsFromGMT: utc) == "no profiles")
        let tomorrow = [status("a", .retrying, next: epoch.addingTimeInterval(25 * hour))]
        #expect(ProfileStatus.summary(of: tomorrow, now: epoch, secondsFromGMT: utc) == "1 retrying; next refresh 2026-01-02 01:00")
    }
}
