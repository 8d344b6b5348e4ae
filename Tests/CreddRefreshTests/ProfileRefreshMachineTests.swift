import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddRefresh

/// Drives one machine with a manual wall clock; no sleeping anywhere.
struct MachineHarness {
    var machine: ProfileRefreshMachine
    let clock = ManualWallClock(epoch)
    var random: FixedRandom

    init(_ profile: ProfileSpec = spec("dev"), random: FixedRandom = .lowest) {
        self.machine = ProfileRefreshMachine(spec: profile)
        self.random = random
    }

    var now: Date { clock.now() }

    @discardableResult
    mutating func send(_ event: ProfileRefreshMachine.Event) -> [ProfileRefreshMachine.Action] {
        machine.handle(event, now: clock.now(), using: &random)
    }

    /// Runs the first renewal and returns the credentials it obtained.
    @discardableResult
    mutating func startFresh(lifetime: TimeInterval) -> AWSCredentials {
        #expect(send(.tick) == [.renew(withMFACode: false)])
        let credentials = sessionCredentials(expiring: now.addingTimeInterval(lifetime))
        #expect(send(.renewalSucceeded(credentials)) == [.publish(credentials), .notifyDependents])
        return credentials
    }

    func advance(to date: Date) { clock.set(date) }
    func advance(by seconds: TimeInterval) { clock.advance(by: seconds) }
}

@Suite("Profile refresh machine")
struct ProfileRefreshMachineTests {
    @Test("a new profile renews at once and is fresh until its renewal time")
    func firstRenewal() throws {
        var harness = MachineHarness()
        #expect(harness.machine.status == .pending)
        #expect(harness.machine.nextDeadline == .distantPast)
        harness.startFresh(lifetime: hour)
        #expect(harness.machine.status == .fresh)
        let renewAt = try #require(harness.machine.nextRefresh)
        #expect(renewAt == epoch.addingTimeInterval(40 * minute))
        #expect(harness.machine.nextDeadline == renewAt)
        #expect(harness.machine.lastRefresh == epoch)

        harness.advance(to: renewAt.addingTimeInterval(-1))
        #expect(harness.send(.tick).isEmpty)
        harness.advance(to: renewAt)
        #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        #expect(harness.machine.status == .refreshing)
        // Still serving the old credentials while renewing.
        #expect(harness.machine.servedCredentials(at: harness.now) != nil)
    }

    @Test("a retryable failure keeps the credentials in service and retries with growing backoff")
    func retryableFailureKeepsCredentials() throws {
        var harness = MachineHarness(random: .highest)
        let original = harness.startFresh(lifetime: hour)
        let renewAt = try #require(harness.machine.nextRefresh)
        harness.advance(to: renewAt)
        harness.send(.tick)

        var previousWindow: TimeInterval = 0
        for attempt in 1...6 {
            #expect(harness.send(.renewalFailed(.throttled)).isEmpty)
            #expect(harness.machine.status == .retrying)
            #expect(harness.machine.lastError == .throttled)
            #expect(harness.machine.servedCredentials(at: harness.now) == original)
            let retryAt = try #require(harness.machine.nextRefresh)
            let window = retryAt.timeIntervalSince(harness.now)
            #expect(window > previousWindow, "attempt \(attempt) backs off further")
            #expect(window <= 300)
            previousWindow = window
            harness.advance(to: retryAt.addingTimeInterval(-0.5))
            #expect(harness.send(.tick).isEmpty)
            harness.advance(to: retryAt)
            #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        }
        let renewed = sessionCredentials(expiring: harness.now.addingTimeInterval(hour), key: "ASIANEW")
        #expect(harness.send(.renewalSucceeded(renewed)) == [.publish(renewed), .notifyDependents])
        #expect(harness.machine.status == .fresh)
        #expect(harness.machine.lastError == nil)
    }

    @Test("credentials that keep failing to renew are withdrawn at expiry, and retries go on")
    func expiryWithdraws() throws {
        var harness = MachineHarness(random: .highest)
        let original = harness.startFresh(lifetime: hour)
        let expiration = try #require(original.expiration)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        var withdrawn = false
        for _ in 0..<100 where !withdrawn {
            harness.send(.renewalFailed(.throttled))
            let deadline = try #require(harness.machine.nextDeadline)
            #expect(deadline <= expiration)
            harness.advance(to: deadline)
            let actions = harness.send(.tick)
            withdrawn = actions.contains(.withdraw)
            if !withdrawn {
                #expect(harness.machine.servedCredentials(at: harness.now) == original)
            }
        }
        #expect(withdrawn)
        #expect(harness.now == original.expiration)
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
        #expect(harness.machine.session == nil)
    }

    @Test("expired credentials are withdrawn even while waiting in error, and the state stays")
    func needsChangeWaitsForAChange() throws {
        var harness = MachineHarness()
        let original = harness.startFresh(lifetime: hour)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        #expect(harness.send(.renewalFailed(.accessDenied)).isEmpty)
        #expect(harness.machine.status == .error)
        // Retried slowly (users fix such errors on the AWS side), not before 5 minutes.
        let retryAt = try #require(harness.machine.nextRefresh)
        #expect(retryAt == harness.now.addingTimeInterval(5 * minute))
        #expect(harness.machine.nextDeadline == retryAt)
        harness.advance(by: 4 * minute)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.send(.sourceRenewed).isEmpty)
        harness.advance(to: try #require(original.expiration))
        #expect(harness.send(.tick) == [.withdraw, .renew(withMFACode: false)])
        harness.send(.renewalFailed(.accessDenied))
        #expect(harness.machine.status == .error)
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
        // A change retries at once.
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(.accessDenied))
        #expect(harness.send(.configurationChanged(spec("dev", version: 2))) == [.renew(withMFACode: false)])
    }

    @Test("keys in a locked keyring: needs_unlock, credentials stay served, retried every minute without backoff")
    func lockedKeyringRetriesSteadily() throws {
        let locked = RefreshFailure(disposition: .needsUnlock, message: "the keyring holding the keys of alice is locked")
        var harness = MachineHarness()
        let original = harness.startFresh(lifetime: hour)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        for _ in 1...4 {
            #expect(harness.send(.renewalFailed(locked)).isEmpty)
            #expect(harness.machine.status == .needsUnlock)
            #expect(harness.machine.servedCredentials(at: harness.now) == original)
            #expect(harness.machine.nextRefresh == harness.now.addingTimeInterval(60))
            harness.advance(by: 60)
            #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        }
        let renewed = sessionCredentials(expiring: harness.now.addingTimeInterval(hour), key: "ASIANEW")
        #expect(harness.send(.renewalSucceeded(renewed)) == [.publish(renewed), .notifyDependents])
        #expect(harness.machine.status == .fresh)
    }

    @Test("the keyring's unlock signal renews a needs_unlock profile at once, and nothing else")
    func unlockSignalRenewsAtOnce() throws {
        let locked = RefreshFailure(disposition: .needsUnlock, message: "the keyring holding the keys of alice is locked")
        var harness = MachineHarness()
        harness.startFresh(lifetime: hour)
        #expect(harness.send(.keyringUnlocked).isEmpty, "a fresh profile waits for its schedule")
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        #expect(harness.send(.keyringUnlocked).isEmpty, "a renewal in flight is not doubled")
        #expect(harness.send(.renewalFailed(locked)).isEmpty)
        harness.advance(by: 1)
        #expect(harness.send(.keyringUnlocked) == [.renew(withMFACode: false)])
        #expect(harness.machine.status == .refreshing)
        #expect(harness.send(.renewalFailed(RefreshFailure(disposition: .retryable, message: "timeout"))).isEmpty)
        #expect(harness.machine.status == .retrying)
        #expect(harness.send(.keyringUnlocked).isEmpty, "a profile retrying for another reason keeps its backoff")
    }

    @Test("a laptop waking after its credentials expired withdraws them and renews at once")
    func wakeAfterSuspend() {
        var harness = MachineHarness()
        harness.startFresh(lifetime: hour)
        harness.advance(by: 5 * hour)
        #expect(harness.send(.tick) == [.withdraw, .renew(withMFACode: false)])
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
    }

    @Test("a wake shortly before expiry, past the renewal time, renews at once without withdrawing")
    func wakeBeforeExpiry() {
        var harness = MachineHarness()
        harness.startFresh(lifetime: hour)
        harness.advance(by: 50 * minute)
        #expect(harness.send(.tick) == [.renew(withMFACode: false)])
    }

    @Test("a clock jumping backwards neither renews early nor loses the schedule")
    func clockJumpsBackwards() throws {
        var harness = MachineHarness()
        harness.startFresh(lifetime: hour)
        let renewAt = try #require(harness.machine.nextRefresh)
        harness.advance(by: -3 * hour)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.nextRefresh == renewAt)
        #expect(harness.machine.servedCredentials(at: harness.now) != nil)
        harness.advance(to: renewAt)
        #expect(harness.send(.tick) == [.renew(withMFACode: false)])
    }

    @Test("renewal returning expired or incomplete credentials is a failure, never published")
    func invalidCredentialsAreNotSuccess() {
        var harness = MachineHarness()
        harness.send(.tick)
        let stale = sessionCredentials(expiring: harness.now.addingTimeInterval(-1))
        #expect(harness.send(.renewalSucceeded(stale)).isEmpty)
        #expect(harness.machine.status == .retrying)
        #expect(harness.machine.lastError?.message.contains("expired") == true)
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
        harness.advance(to: harness.machine.nextRefresh ?? .distantFuture)
        harness.send(.tick)
        let empty = AWSCredentials(accessKeyId: "", secretAccessKey: Secret(""), expiration: harness.now.addingTimeInterval(hour))
        #expect(harness.send(.renewalSucceeded(empty)).isEmpty)
        #expect(harness.machine.status == .retrying)
    }

    @Test("single flight: nothing starts a second renewal while one is in flight")
    func singleFlight() {
        var harness = MachineHarness(spec("mfa", mfa: true, mfaProcess: true))
        harness.send(.tick)
        #expect(harness.machine.status == .refreshing)
        #expect(harness.send(.manualRefresh).isEmpty)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.send(.mfaCodeReceived).isEmpty)
        #expect(harness.send(.sourceRenewed).isEmpty)
        #expect(harness.send(.dependentReportedExpiry).isEmpty)
    }

    @Test("a configuration change during a renewal renews again with the new configuration")
    func configurationChangeInFlight() {
        var harness = MachineHarness()
        harness.send(.tick)
        #expect(harness.send(.configurationChanged(spec("dev", version: 2))).isEmpty)
        let credentials = sessionCredentials(expiring: harness.now.addingTimeInterval(hour))
        #expect(
            harness.send(.renewalSucceeded(credentials))
                == [.publish(credentials), .notifyDependents, .renew(withMFACode: false)])
        #expect(harness.send(.renewalFailed(.accessDenied)).isEmpty)
        #expect(harness.machine.status == .error)
    }

    @Test("a manual refresh renews a fresh profile now and resumes a retrying one")
    func manualRefresh() {
        var harness = MachineHarness()
        harness.startFresh(lifetime: 12 * hour)
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(.throttled))
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
    }

    @Test("15-minute sessions renew every 3¾ minutes: no storm, and never inside the SDKs' blocking window")
    func shortSessionsDoNotStorm() throws {
        var harness = MachineHarness()
        harness.startFresh(lifetime: 15 * minute)
        var renewals = 0
        var lastObtained = harness.now
        for _ in 0..<100 {
            let deadline = try #require(harness.machine.nextDeadline)
            harness.advance(to: deadline)
            let remaining = harness.machine.servedCredentials(at: harness.now)?.remainingLifetime(at: harness.now) ?? 0
            #expect(remaining > 10 * minute)
            #expect(harness.send(.tick) == [.renew(withMFACode: false)])
            #expect(harness.now.timeIntervalSince(lastObtained) >= 225)
            harness.send(.renewalSucceeded(sessionCredentials(expiring: harness.now.addingTimeInterval(15 * minute))))
            lastObtained = harness.now
            renewals += 1
        }
        // 100 renewals span 375 minutes: at most 16 per hour.
        #expect(harness.now.timeIntervalSince(epoch) == 100 * 225)
        #expect(renewals == 100)
    }
}

@Suite("Profile refresh machine: IAM Identity Center sign-in")
struct ProfileRefreshMachineSignInTests {
    static let signIn = RefreshFailure(
        disposition: .needsLogin, message: "needs an IAM Identity Center sign-in for corp (the session ended): run `credd login corp`")

    @Test("a session that needs a sign-in parks the profile in needs_login without retries, serving until expiry; a new token renews")
    func needsLoginUntilANewToken() throws {
        var harness = MachineHarness(spec("dev-sso"))
        let original = harness.startFresh(lifetime: hour)
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        #expect(harness.send(.renewalFailed(Self.signIn)).isEmpty)
        #expect(harness.machine.status == .needsLogin)
        #expect(harness.machine.lastError == Self.signIn)
        #expect(harness.machine.nextRefresh == nil, "no retries: only a new token helps")
        #expect(harness.machine.nextDeadline == original.expiration)
        #expect(harness.machine.servedCredentials(at: harness.now) == original)
        // Neither time, nor a resume, nor a source renewing retries it.
        harness.advance(by: 10 * minute)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.send(.resumed).isEmpty)
        #expect(harness.send(.sourceRenewed).isEmpty)
        #expect(harness.machine.status == .needsLogin)
        // At expiry the credentials leave service, and the profile still waits for a sign-in.
        harness.advance(to: try #require(original.expiration))
        #expect(harness.send(.tick) == [.withdraw])
        #expect(harness.machine.status == .needsLogin)
        #expect(harness.machine.nextDeadline == nil)
        // The daemon renews on a new token (as `credd refresh`).
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
        let renewed = sessionCredentials(expiring: harness.now.addingTimeInterval(hour))
        #expect(harness.send(.renewalSucceeded(renewed)) == [.publish(renewed), .notifyDependents])
        #expect(harness.machine.status == .fresh)
        #expect(harness.machine.lastError == nil)
    }

    @Test("a config edit retries a profile waiting for a sign-in at once; a failed first renewal waits too")
    func configEditRetries() {
        var harness = MachineHarness(spec("dev-sso"))
        harness.send(.tick)
        harness.send(.renewalFailed(Self.signIn))
        #expect(harness.machine.status == .needsLogin)
        #expect(harness.machine.servedCredentials(at: harness.now) == nil)
        #expect(harness.send(.settingsChanged(spec("dev-sso", version: 2))) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(Self.signIn))
        #expect(harness.send(.configurationChanged(spec("dev-sso", version: 3))) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(Self.signIn))
        #expect(harness.send(.mfaCodeReceived).isEmpty, "a code is no sign-in")
        #expect(harness.machine.status == .needsLogin)
    }
}

@Suite("Profile refresh machine: MFA")
struct ProfileRefreshMachineMFATests {
    @Test("without mfa_process, a new profile waits for a code and renews with it")
    func firstCode() {
        var harness = MachineHarness(spec("mfa", mfa: true))
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.nextDeadline == nil)
        #expect(harness.send(.manualRefresh).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.send(.mfaCodeReceived) == [.renew(withMFACode: true)])
        let credentials = sessionCredentials(expiring: harness.now.addingTimeInterval(12 * hour))
        #expect(harness.send(.renewalSucceeded(credentials)) == [.publish(credentials), .notifyDependents])
        #expect(harness.machine.status == .fresh)
    }

    @Test("a 12-hour session asks for the next code with 4 hours left and keeps serving meanwhile")
    func asksEarlyAndKeepsServing() throws {
        var harness = MachineHarness(spec("mfa", mfa: true))
        harness.send(.tick)
        harness.send(.mfaCodeReceived)
        let credentials = sessionCredentials(expiring: harness.now.addingTimeInterval(12 * hour))
        harness.send(.renewalSucceeded(credentials))
        let askAt = try #require(harness.machine.nextRefresh)
        #expect(askAt == epoch.addingTimeInterval(8 * hour))
        harness.advance(to: askAt)
        #expect(harness.send(.tick).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        #expect(harness.machine.nextDeadline == credentials.expiration)

        // A wrong code: back to waiting, with the error shown, still serving.
        #expect(harness.send(.mfaCodeReceived) == [.renew(withMFACode: true)])
        #expect(harness.send(.renewalFailed(.wrongCode)).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.machine.state == .needsMFA(.wrongCode))
        #expect(harness.machine.lastError == .wrongCode)
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)

        // Even a transient failure needs a new code: codes are single-use.
        harness.send(.mfaCodeReceived)
        harness.send(.renewalFailed(.throttled))
        #expect(harness.machine.status == .needsMFA)

        // Nobody answered: withdrawn at expiry, still waiting for a code.
        harness.advance(to: try #require(credentials.expiration))
        #expect(harness.send(.tick) == [.withdraw])
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.send(.mfaCodeReceived) == [.renew(withMFACode: true)])
    }

    @Test("with mfa_process, renewal runs unattended; a rejected code waits for credd login")
    func mfaProcess() {
        var harness = MachineHarness(spec("mfa", mfa: true, mfaProcess: true))
        #expect(harness.send(.tick) == [.renew(withMFACode: false)])
        #expect(harness.send(.renewalFailed(.wrongCode)).isEmpty)
        #expect(harness.machine.status == .needsMFA)
        #expect(harness.send(.manualRefresh) == [.renew(withMFACode: false)])
        harness.send(.renewalFailed(.wrongCode))
        #expect(harness.send(.mfaCodeReceived) == [.renew(withMFACode: true)])
    }

    @Test("a code for a profile without mfa_serial is refused")
    func codeWithoutMFA() {
        var harness = MachineHarness()
        #expect(harness.send(.mfaCodeReceived).isEmpty)
        #expect(harness.machine.status == .pending)
    }
}

@Suite("Profile refresh machine: chains")
struct ProfileRefreshMachineChainTests {
    static let waitingForSource = RefreshFailure(
        disposition: .sourceExpired, message: "waiting for source profile 'mfa' (needs_mfa)")

    @Test("a dependent whose source has no credentials waits for it without a timer, then renews")
    func waitsForSource() {
        var harness = MachineHarness(spec("dev", source: "mfa"))
        harness.send(.tick)
        #expect(harness.send(.sourceUnavailable(Self.waitingForSource)).isEmpty)
        // Nothing obtained, nothing failed: still pending, just waiting for the source.
        #expect(harness.machine.status == .pending)
        #expect(harness.machine.nextDeadline == nil)
        #expect(harness.machine.lastError == Self.waitingForSource)
        #expect(harness.send(.sourceRenewed) == [.renew(withMFACode: false)])
    }

    @Test("a dependent with valid credentials keeps serving while it waits for its source")
    func keepsServingWhileWaiting() throws {
        var harness = MachineHarness(spec("dev", source: "mfa"))
        let credentials = harness.startFresh(lifetime: hour)
        #expect(harness.send(.sourceRenewed).isEmpty, "a healthy dependent keeps its own schedule")
        harness.advance(to: try #require(harness.machine.nextRefresh))
        harness.send(.tick)
        harness.send(.sourceUnavailable(Self.waitingForSource))
        #expect(harness.machine.servedCredentials(at: harness.now) == credentials)
        #expect(harness.machine.nextDeadline == credentials.expiration)
        harness.advance(to: try #require(credentials.expiration))
        #expect(harness.send(.tick) == [.withdraw])
        #expect(harness.machine.status == .expired)
        #expect(harness.send(.sourceRenewed) == [.renew(withMFACode: false)])
    }

    @Test("ExpiredToken from the source asks the source to renew, then retries when it has")
    func sourceExpired() throws {
        var harness = MachineHarness(spec("dev", source: "mfa"))
        harness.send(.tick)
        #expect(harness.send(.renewalFailed(.sourceTokenExpired)) == [.requestSourceRenewal])
        #expect(harness.machine.status == .retrying)
        // A backoff timer as well, in case the source decides its credentials are fine.
        #expect(harness.machine.nextRefresh != nil)
        #expect(harness.send(.sourceRenewed) == [.renew(withMFACode: false)])
    }

    @Test("a source renews on a dependent's report only once its minimum interval has passed")
    func dependentReport() {
        var harness = MachineHarness(spec("mfa"))
        harness.startFresh(lifetime: 12 * hour)
        #expect(harness.send(.dependentReportedExpiry).isEmpty)
        harness.advance(by: 3 * hour)
        #expect(harness.send(.dependentReportedExpiry) == [.renew(withMFACode: false)])
    }

    @Test("an interactive MFA dependent whose source is unavailable waits for a new code")
    func interactiveDependent() {
        var harness = MachineHarness(spec("admin", source: "mfa", mfa: true))
        harness.send(.tick)
        harness.send(.mfaCodeReceived)
        harness.send(.sourceUnavailable(Self.waitingForSource))
        #expect(harness.machine.state == .needsMFA(Self.waitingForSource))
    }
}

@Suite("Profile states")
struct ProfileStateTests {
    @Test("status names match the documented JSON values")
    func names() {
        #expect(
            ProfileState.allCases.map(\.rawValue)
                == ["pending", "fresh", "refreshing", "retrying", "needs_mfa", "needs_login", "needs_unlock", "expired", "error"])
    }
}
