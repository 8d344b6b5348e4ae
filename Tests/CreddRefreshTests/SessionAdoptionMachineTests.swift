import CreddCore
import Foundation
import Testing

@testable import CreddRefresh

/// Sessions survive: adoption, config edits, `credd refresh` and rejected adopted sessions.
@Suite("Profile refresh machine: sessions survive")
struct SessionAdoptionMachineTests {
    @Test("an adopted session is served at once and renews on the schedule it would have had")
    func adoptionSchedules() throws {
        var harness = MachineHarness(spec("dev"))
        let credentials = sessionCredentials(expiring: epoch.addingTimeInterval(50 * minute))
        let obtainedAt = epoch.addingTimeInterval(-10 * minute)
        #expect(harness.send(.adopt(credentials, obtainedAt: obtainedAt)) == [.publish(credentials), .notifyDependents])
        #expect(harness.machine.status == .fresh)
        #expect(harness.machine.session?.adopted == true)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        #expect(harness.machine.lastRefresh == obtainedAt)
        // An hour's session obtained 10 minutes ago renews with a third of it left, as a fresh one.
        #expect(harness.machine.nextRefresh == obtainedAt.addingTimeInterval(40 * minute))
    }

    @Test("expired sessions, and any session once one is in service, are never adopted")
    func refusals() {
        var harness = MachineHarness(spec("dev"))
        let expired = sessionCredentials(expiring: epoch)
        #expect(harness.send(.adopt(expired, obtainedAt: epoch.addingTimeInterval(-hour))).isEmpty)
        #expect(harness.machine.status == .pending)
        #expect(harness.machine.session == nil)
        let incomplete = AWSCredentials(
            accessKeyId: "ASIAX", secretAccessKey: Secret(""), sessionToken: Secret("t"), expiration: epoch.addingTimeInterval(hour))
        #expect(harness.send(.adopt(incomplete, obtainedAt: epoch)).isEmpty)

        let current = harness.startFresh(lifetime: hour)
        let older = sessionCredentials(expiring: epoch.addingTimeInterval(30 * minute), key: "ASIAOLDER")
        #expect(harness.send(.adopt(older, obtainedAt: epoch)).isEmpty)
        #expect(harness.machine.servedCredentials(at: harness.now) == current)
        #expect(harness.machine.session?.adopted == false)
    }

    @Test("an adopted MFA session is fresh until its renewal point, then needs a code and is still served until it expires")
    func adoptedMFASession() throws {
        var harness = MachineHarness(spec("mfa", mfa: true))
        let credentials = sessionCredentials(expiring: epoch.addingTimeInterval(10 * hour))
        harness.send(.adopt(credentials, obtainedAt: epoch.addingTimeInterval(-2 * hour)))
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .fresh)
        let askAt = try #require(harness.machine.nextRefresh)
        #expect(askAt == epoch.addingTimeInterval(6 * hour))
        harness.advance(to: askAt)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        harness.advance(to: try #require(credentials.expiration))
        #expect(harness.send(.tick) == [.withdraw])
        #expect(harness.machine.status == .needsMFA)
    }

    @Test("an adopted MFA session already past its renewal point waits for a code and keeps serving")
    func adoptedPastRenewal() {
        var harness = MachineHarness(spec("mfa", mfa: true))
        let credentials = sessionCredentials(expiring: epoch.addingTimeInterval(30 * minute))
        harness.send(.adopt(credentials, obtainedAt: epoch.addingTimeInterval(-11.5 * hour)))
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
    }

    @Test("credd refresh keeps an MFA session that needs a typed code in service; other profiles renew")
    func refreshKeepsInteractiveSession() {
        var mfa = MachineHarness(spec("mfa", mfa: true))
        let credentials = sessionCredentials(expiring: epoch.addingTimeInterval(12 * hour))
        mfa.send(.adopt(credentials, obtainedAt: epoch))
        #expect(mfa.send(.manualRefresh).isEmpty)
        #expect(mfa.machine.status == .fresh)
        #expect(mfa.machine.servedCredentials(at: mfa.now) == credentials)
        // credd login still renews it on demand.
        #expect(mfa.send(.mfaCodeReceived) == [.renew(withMFACode: true)])

        var unattended = MachineHarness(spec("mfa", mfa: true, mfaProcess: true))
        unattended.send(.adopt(credentials, obtainedAt: epoch))
        #expect(unattended.send(.manualRefresh) == [.renew(withMFACode: false)])
    }

    @Test("a settings-only edit keeps the session; removing mfa_process makes only the next renewal wait for a code")
    func settingsChangeKeepsSession() throws {
        var harness = MachineHarness(spec("mfa", mfa: true, mfaProcess: true))
        let credentials = harness.startFresh(lifetime: 12 * hour)
        let edited = spec("mfa", mfa: true, mfaProcess: false, version: 2, identityVersion: 1)
        #expect(harness.send(.settingsChanged(edited)).isEmpty)
        #expect(harness.machine.status == .fresh)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        // Putting mfa_process back renews at once, unattended.
        #expect(
            harness.send(.settingsChanged(spec("mfa", mfa: true, mfaProcess: true, version: 3, identityVersion: 1)))
                == [.renew(withMFACode: false)])
    }

    @Test("a settings-only edit retries a profile in error or retrying at once")
    func settingsChangeRetriesWaitingProfiles() {
        var harness = MachineHarness(spec("dev"))
        harness.send(.tick)
        harness.send(.renewalFailed(.accessDenied))
        #expect(harness.send(.settingsChanged(spec("dev", version: 2, identityVersion: 1))) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(.throttled))
        #expect(harness.send(.settingsChanged(spec("dev", version: 3, identityVersion: 1))) == [.renew(withMFACode: false)])
    }

    @Test("a settings-only edit during a renewal retries at once if that renewal fails, and not if it succeeds")
    func settingsChangeInFlight() {
        var harness = MachineHarness(spec("dev"))
        harness.send(.tick)
        #expect(harness.send(.settingsChanged(spec("dev", version: 2, identityVersion: 1))).isEmpty)
        #expect(harness.send(.renewalFailed(.accessDenied)) == [.renew(withMFACode: false)])
        #expect(harness.send(.settingsChanged(spec("dev", version: 3, identityVersion: 1))).isEmpty)
        let credentials = sessionCredentials(expiring: harness.now.addingTimeInterval(hour))
        #expect(harness.send(.renewalSucceeded(credentials)) == [.publish(credentials), .notifyDependents])
        #expect(harness.machine.status == .fresh)
    }

    @Test("an identity change withdraws the session at once and renews (or waits for a code)")
    func identityChangeDropsSession() {
        var harness = MachineHarness(spec("dev"))
        harness.startFresh(lifetime: hour)
        #expect(harness.send(.configurationChanged(spec("dev", version: 2))) == [.withdraw, .renew(withMFACode: false)])
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)

        var mfa = MachineHarness(spec("mfa", mfa: true))
        mfa.send(.adopt(sessionCredentials(expiring: epoch.addingTimeInterval(hour * 12)), obtainedAt: epoch))
        #expect(mfa.send(.configurationChanged(spec("mfa", mfa: true, version: 2))) == [.withdraw])
        #expect(mfa.machine.status == .needsMFA)
        #expect(mfa.machine.servedCredentials(at: mfa.now) == nil)
    }

    @Test("STS rejecting an adopted session (reported by a dependent) drops it at once and renews")
    func rejectedAdoptedSession() {
        var harness = MachineHarness(spec("base"))
        harness.send(.adopt(sessionCredentials(expiring: epoch.addingTimeInterval(12 * hour)), obtainedAt: epoch))
        // Within the minimum interval, yet renewed: an adopted session has not been vouched for.
        #expect(harness.send(.dependentReportedExpiry) == [.withdraw, .renew(withMFACode: false)])
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
        #expect(harness.machine.lastError?.message.contains("rejected") == true)
        let renewed = sessionCredentials(expiring: epoch.addingTimeInterval(12 * hour), key: "ASIARENEWED")
        harness.send(.renewalSucceeded(renewed))
        #expect(harness.machine.session?.adopted == false)
        // A session this run obtained is trusted as before: the minimum interval applies.
        #expect(harness.send(.dependentReportedExpiry).isEmpty)

        var mfa = MachineHarness(spec("mfa", mfa: true))
        mfa.send(.adopt(sessionCredentials(expiring: epoch.addingTimeInterval(12 * hour)), obtainedAt: epoch))
        #expect(mfa.send(.dependentReportedExpiry) == [.withdraw])
        #expect(mfa.machine.status == .needsMFA)
    }

    @Test("renewing an MFA session without a code keeps the old one in service and says a code is needed")
    func failedUnattendedRenewalKeepsSession() throws {
        var harness = MachineHarness(spec("mfa", mfa: true, mfaProcess: true))
        let credentials = harness.startFresh(lifetime: 12 * hour)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        #expect(harness.send(.renewalFailed(RefreshFailure(disposition: .needsMFA, message: "needs an MFA code"))).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
    }
}

@Suite("Profile refresh machine: errors that heal")
struct ErrorRetryMachineTests {
    @Test("an error that needs a change is retried after 5 minutes, doubling to an hour, and stays error")
    func slowRetries() throws {
        var harness = MachineHarness(spec("dev"))
        harness.send(.tick)
        var delays: [TimeInterval] = []
        for _ in 0..<7 {
            #expect(harness.send(.renewalFailed(.accessDenied)).isEmpty)
            #expect(harness.machine.status == .error)
            let retryAt = try #require(harness.machine.nextRefresh)
            #expect(harness.machine.nextDeadline == retryAt)
            delays.append(retryAt.timeIntervalSince(harness.now))
            harness.advance(to: retryAt.addingTimeInterval(-1))
            #expect(harness.send(.tick).isEmpty)
            harness.advance(to: retryAt)
            #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        }
        #expect(delays == [5, 10, 20, 40, 60, 60, 60].map { $0 * minute })
        // Fixed on the AWS side: the next retry succeeds and the slow schedule starts over.
        harness.send(.renewalSucceeded(sessionCredentials(expiring: harness.now.addingTimeInterval(hour))))
        #expect(harness.machine.status == .fresh)
        #expect(harness.machine.lastError == nil)
    }

    @Test("error retries are jittered earlier, never later, and credd refresh retries at once")
    func jitterAndManualRetry() throws {
        var harness = MachineHarness(spec("dev"), random: .highest)
        harness.send(.tick)
        harness.send(.renewalFailed(.accessDenied))
        let delay = try #require(harness.machine.nextRefresh).timeIntervalSince(harness.now)
        #expect(delay >= 4 * minute && delay < 5 * minute)
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
    }

    @Test("a transient failure after an error retries quickly again")
    func transientAfterError() throws {
        var harness = MachineHarness(spec("dev"))
        harness.send(.tick)
        harness.send(.renewalFailed(.accessDenied))
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        harness.send(.renewalFailed(.throttled))
        #expect(harness.machine.status == .retrying)
        #expect(try #require(harness.machine.nextRefresh).timeIntervalSince(harness.now) <= 5 * minute)
    }
}
