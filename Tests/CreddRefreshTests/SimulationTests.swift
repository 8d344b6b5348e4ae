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
        #expect(ProfileStatus.summary(of: statuses, now: epoch, secondsFromGMT: berlin) == "3 fresh, 1 needs MFA (c: credd login c); next refresh 15:05")
        #expect(ProfileStatus.summary(of: [status("a", .error)], now: epoch, secondsFromGMT: utc) == "1 failed (a: credd refresh a)")
        #expect(ProfileStatus.summary(of: [], now: epoch, secondsFromGMT: utc) == "no profiles")
        let tomorrow = [status("a", .retrying, next: epoch.addingTimeInterval(25 * hour))]
        #expect(ProfileStatus.summary(of: tomorrow, now: epoch, secondsFromGMT: utc) == "1 retrying; next refresh 2026-01-02 01:00")
    }
}
