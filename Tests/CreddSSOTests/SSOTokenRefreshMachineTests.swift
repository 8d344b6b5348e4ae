import CreddCore
import CreddRefresh
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

@Suite struct SSOTokenRefreshMachineTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Drives a machine the way the daemon will: a cache file in memory, and a CreateToken answered
    /// by `refresh`.
    struct Driver {
        var machine = SSOTokenRefreshMachine()
        var cacheFile: SSOToken?
        var now: Date
        var random = SplitMix64(seed: 7)
        var refreshes: [(at: Date, timeLeft: TimeInterval)] = []
        var cacheReads = 0
        var published: [SSOToken] = []
        var withdrawals = 0
        var refresh: (SSOToken, Date) -> Result<SSOTokenResponse, SSOError>

        init(now: Date, cacheFile: SSOToken?, refresh: @escaping (SSOToken, Date) -> Result<SSOTokenResponse, SSOError>) {
            self.now = now
            self.cacheFile = cacheFile
            self.refresh = refresh
        }

        mutating func send(_ event: SSOTokenRefreshMachine.Event) {
            var pending = machine.handle(event, now: now, using: &random)
            while !pending.isEmpty {
                let action = pending.removeFirst()
                switch action {
                case .readCache:
                    cacheReads += 1
                    pending += machine.handle(.cacheLoaded(cacheFile), now: now, using: &random)
                case .refresh(let token):
                    refreshes.append((now, token.expiresAt.timeIntervalSince(now)))
                    switch refresh(token, now) {
                    case .success(let response): pending += machine.handle(.refreshSucceeded(response), now: now, using: &random)
                    case .failure(let error): pending += machine.handle(.refreshFailed(error), now: now, using: &random)
                    }
                case .writeCache(let token):
                    cacheFile = token
                case .publish(let token):
                    published.append(token)
                case .withdraw:
                    withdrawals += 1
                }
            }
        }

        /// Moves to the machine's next deadline (at most `limit`) and ticks.
        mutating func advance(notPast limit: Date) {
            now = min(max(machine.nextDeadline ?? limit, now), limit)
            send(.tick)
        }
    }

    static func invalidGrant() -> SSOError {
        SSOError(kind: .service, code: "InvalidGrantException", operation: "CreateToken", message: "Invalid refresh token provided", httpStatus: 400)
    }

    static func unavailable() -> SSOError {
        SSOError(kind: .service, code: "InternalServerException", operation: "CreateToken", message: "oops", httpStatus: 500)
    }

    /// A day with a 1 h access token and a 12 h Identity Center session, and 1 h role credentials
    /// renewed by the STS rules of `ProfileRefreshMachine` with the token in service: no sign-in
    /// until the session ends, each token refreshed once, served role credentials always with more
    /// than 15 minutes left; when the session ends, one `needs_login`.
    @Test func aSimulatedDayNeedsNoSignInUntilTheSessionEnds() throws {
        let sessionEnd = start.addingTimeInterval(12 * 3600)
        var counter = 0
        var driver = Driver(now: start, cacheFile: makeToken(at: start, id: "login")) { token, now in
            guard now < sessionEnd else { return .failure(Self.invalidGrant()) }
            counter += 1
            return .success(SSOTokenResponse(accessToken: Secret("access-\(counter)"), expiresIn: 3600, refreshToken: Secret("refresh-\(counter)")))
        }
        var role = ProfileRefreshMachine(spec: ProfileSpec(name: "dev-sso", identity: "dev-sso", fingerprint: ConfigurationFingerprint("dev-sso")))
        var roleRandom = SplitMix64(seed: 11)
        var needsLoginEntries = 0
        var minimumRoleLeft = TimeInterval.infinity
        var roleRenewals = 0
        let end = start.addingTimeInterval(24 * 3600)
        var steps = 0
        while driver.now < end, steps < 10_000 {
            steps += 1
            let wasNeedingLogin = driver.machine.status.isNeedsLogin
            let roleDeadline = role.nextDeadline ?? end
            let tokenDeadline = driver.machine.nextDeadline ?? end
            driver.now = max(driver.now, min(roleDeadline, tokenDeadline, end))
            driver.send(.tick)
            // Role credentials: GetRoleCredentials with the token in service, 1 h each.
            var roleActions = role.handle(.tick, now: driver.now, using: &roleRandom)
            while let action = roleActions.first {
                roleActions.removeFirst()
                guard case .renew = action else { continue }
                roleRenewals += 1
                if driver.machine.servedToken(at: driver.now) != nil {
                    let credentials = AWSCredentials(
                        accessKeyId: "ASIA\(roleRenewals)", secretAccessKey: Secret("s"), sessionToken: Secret("t"),
                        expiration: driver.now.addingTimeInterval(3600))
                    roleActions += role.handle(.renewalSucceeded(credentials), now: driver.now, using: &roleRandom)
                } else {
                    let failure = RefreshFailure(disposition: .needsLogin, message: "sign in with credd login corp")
                    roleActions += role.handle(.renewalFailed(failure), now: driver.now, using: &roleRandom)
                }
            }
            if !wasNeedingLogin, driver.machine.status.isNeedsLogin { needsLoginEntries += 1 }
            if driver.now < sessionEnd, let served = role.servedCredentials(at: driver.now), let expiration = served.expiration {
                minimumRoleLeft = min(minimumRoleLeft, expiration.timeIntervalSince(driver.now))
            }
            if driver.now < sessionEnd {
                #expect(!driver.machine.status.isNeedsLogin, "needs_login at \(AWSTimestamp.format(driver.now))")
                #expect(driver.machine.servedToken(at: driver.now) != nil)
            }
        }
        #expect(steps < 10_000)
        let beforeEnd = driver.refreshes.filter { $0.at < sessionEnd }
        // One refresh per token: with a third of an hour (plus up to 5% jitter) left each time.
        for refresh in beforeEnd {
            #expect(refresh.timeLeft >= 20 * 60 && refresh.timeLeft <= 23 * 60 + 1, "refreshed with \(refresh.timeLeft) s left")
        }
        #expect((17...19).contains(beforeEnd.count), "\(beforeEnd.count) refreshes in 12 h")
        #expect(driver.cacheReads >= beforeEnd.count + 1)
        #expect(needsLoginEntries == 1)
        #expect(driver.machine.state == .needsLogin(.sessionEnded))
        #expect(role.status == .needsLogin, "the role waits for the sign-in, without retries")
        // The last refresh after the session ended was refused once; nothing retried it.
        #expect(driver.refreshes.filter { $0.at >= sessionEnd }.count == 1)
        #expect(minimumRoleLeft > 15 * 60)
        #expect(driver.withdrawals == 1)
        #expect(driver.cacheFile?.accessToken == Secret("access-\(counter)"))
    }

    @Test func aTokenAnotherProgramRefreshedIsAdoptedInsteadOfRefreshing() {
        let mine = makeToken(at: start, id: "mine")
        var driver = Driver(now: start, cacheFile: mine) { _, _ in
            Issue.record("no refresh expected")
            return .failure(Self.unavailable())
        }
        driver.send(.tick)
        #expect(driver.published == [mine])
        // The AWS CLI refreshed the file meanwhile.
        let theirs = makeToken(at: start.addingTimeInterval(2000), id: "theirs")
        driver.cacheFile = theirs
        driver.advance(notPast: start.addingTimeInterval(3600))
        #expect(driver.refreshes.isEmpty)
        #expect(driver.published.last == theirs)
        guard case .fresh(let refreshAt?) = driver.machine.state else {
            Issue.record("\(driver.machine.state)")
            return
        }
        #expect(refreshAt > driver.now)
    }

    /// invalid_grant: the refused refresh token is not tried again, even when the file is re-read;
    /// a token from a new sign-in (`aws sso login`, `credd login`) is.
    @Test func aRefusedRefreshTokenNeedsLoginUntilANewSignIn() {
        let mine = makeToken(at: start, lifetime: 600, id: "mine")
        var driver = Driver(now: start, cacheFile: mine) { _, _ in .failure(Self.invalidGrant()) }
        driver.send(.tick)
        #expect(driver.refreshes.count == 1)
        // Read once before the refresh (the first load, here) and once after it failed.
        #expect(driver.cacheReads == 2)
        #expect(driver.machine.state == .needsLogin(.sessionEnded))
        #expect(driver.machine.servedToken(at: driver.now) == mine)
        driver.send(.cacheChanged)
        driver.send(.tick)
        #expect(driver.refreshes.count == 1)
        #expect(driver.machine.state == .needsLogin(.sessionEnded))
        let theirs = makeToken(at: start, lifetime: 3600, id: "theirs")
        driver.cacheFile = theirs
        driver.send(.cacheChanged)
        #expect(driver.published.last == theirs)
        #expect(!driver.machine.status.isNeedsLogin)
    }

    /// The read after a failed refresh finds the token another program wrote during it.
    @Test func theReReadAfterAFailureAdoptsATokenWrittenDuringTheRefresh() {
        let mine = makeToken(at: start, lifetime: 600, id: "mine")
        let theirs = makeToken(at: start, lifetime: 3600, id: "theirs")
        var machine = SSOTokenRefreshMachine()
        var random = SplitMix64(seed: 1)
        #expect(machine.handle(.tick, now: start, using: &random) == [.readCache])
        #expect(machine.handle(.cacheLoaded(mine), now: start, using: &random) == [.publish(mine), .refresh(mine)])
        #expect(machine.handle(.refreshFailed(Self.invalidGrant()), now: start, using: &random) == [.readCache])
        #expect(machine.handle(.cacheLoaded(theirs), now: start, using: &random) == [.publish(theirs)])
        guard case .fresh(let refreshAt?) = machine.state else {
            Issue.record("\(machine.state)")
            return
        }
        #expect(refreshAt > start)
        #expect(machine.lastError?.code == "InvalidGrantException")
    }

    @Test func transientFailuresBackOffAndKeepTheCount() {
        var failures = 0
        let token = makeToken(at: start, lifetime: 1200, id: "t")
        var driver = Driver(now: start, cacheFile: token) { _, _ in
            failures += 1
            return .failure(Self.unavailable())
        }
        driver.send(.tick)
        var delays: [TimeInterval] = []
        var lastFailureAt = driver.now
        // Until the access token has expired and six retries failed (full jitter may make waits short).
        while driver.now < token.expiresAt || delays.count < 6, delays.count < 100 {
            guard case .retrying(let count, let retryAt) = driver.machine.state else {
                Issue.record("\(driver.machine.state)")
                return
            }
            #expect(count == failures)
            let before = failures
            driver.advance(notPast: start.addingTimeInterval(86_400))
            guard failures > before else { continue }
            delays.append(retryAt.timeIntervalSince(lastFailureAt))
            lastFailureAt = driver.now
        }
        // Full jitter under a doubling cap: 30, 60, 120, … never past 15 minutes.
        for (index, delay) in delays.enumerated() {
            #expect(delay >= 1 && delay <= min(30 * pow(2, Double(index)), 900))
        }
        // The access token expired meanwhile: withdrawn once, at its expiry; the refresh token still tried.
        #expect(driver.withdrawals == 1)
        #expect(driver.machine.servedToken(at: driver.now) == nil)
        driver.refresh = { _, _ in .success(SSOTokenResponse(accessToken: Secret("new"), expiresIn: 3600, refreshToken: nil)) }
        driver.advance(notPast: start.addingTimeInterval(86_400))
        #expect(driver.machine.servedToken(at: driver.now)?.accessToken == Secret("new"))
        // botocore's rule: without a new refresh token the old one is kept.
        #expect(driver.cacheFile?.refreshToken == Secret("refresh-t"))
        #expect(driver.machine.lastError == nil)
    }

    @Test(arguments: [
        ("no refresh token", false, 90 * 86_400.0, NeedsLoginReason.noRefreshToken),
        ("registration expired", true, -1.0, NeedsLoginReason.registrationExpired(Date(timeIntervalSince1970: 1_800_000_000 - 1))),
    ])
    func aTokenThatCannotRefreshServesUntilExpiryThenNeedsLogin(
        _ label: String, refreshable: Bool, registrationValidFor: TimeInterval, reason: NeedsLoginReason
    ) {
        let token = makeToken(at: start, lifetime: 8 * 3600, refreshable: refreshable, registrationValidFor: registrationValidFor, id: label)
        var driver = Driver(now: start, cacheFile: token) { _, _ in
            Issue.record("no refresh expected")
            return .failure(Self.unavailable())
        }
        driver.send(.tick)
        #expect(driver.machine.state == .fresh(refreshAt: nil))
        #expect(driver.machine.loginNeededAt == (refreshable ? token.registrationExpiresAt : token.expiresAt))
        #expect(driver.machine.servedToken(at: driver.now) == token)
        driver.advance(notPast: start.addingTimeInterval(86_400))
        #expect(driver.now == token.expiresAt)
        #expect(driver.machine.state == .needsLogin(reason))
        #expect(driver.withdrawals == 1)
        #expect(driver.refreshes.isEmpty)
    }

    @Test func noCacheFileNeedsLoginAndALaterLoginIsPickedUp() {
        var driver = Driver(now: start, cacheFile: nil) { _, _ in
            Issue.record("no refresh expected")
            return .failure(Self.unavailable())
        }
        driver.send(.tick)
        #expect(driver.machine.state == .needsLogin(.noToken))
        #expect(driver.machine.nextDeadline == nil)
        let token = makeToken(at: start)
        driver.cacheFile = token
        driver.send(.cacheChanged)
        #expect(driver.published == [token])
        guard case .fresh(let refreshAt?) = driver.machine.state else {
            Issue.record("\(driver.machine.state)")
            return
        }
        #expect(refreshAt.timeIntervalSince(start) <= 40 * 60 && refreshAt.timeIntervalSince(start) >= 37 * 60)
    }

    @Test func anUnreadableCacheIsReportedAndNeedsLogin() {
        var machine = SSOTokenRefreshMachine()
        var random = SplitMix64(seed: 3)
        _ = machine.handle(.tick, now: start, using: &random)
        let error = SSOError(kind: .cacheUnreadable, operation: "/x/y.json", message: "the file is not a JSON object")
        #expect(machine.handle(.cacheUnreadable(error), now: start, using: &random).isEmpty)
        #expect(machine.state == .needsLogin(.noToken))
        #expect(machine.lastError == error)
    }

    /// `credd refresh` refreshes even a token that is not due, and even as the first event.
    @Test func aRequestedRefreshHappensWhateverTheSchedule() {
        let token = makeToken(at: start)
        var driver = Driver(now: start, cacheFile: token) { _, _ in
            .success(SSOTokenResponse(accessToken: Secret("requested"), expiresIn: 3600, refreshToken: nil))
        }
        driver.send(.manualRefresh)
        #expect(driver.refreshes.count == 1)
        #expect(driver.published.map(\.accessToken) == [token.accessToken, Secret("requested")])
        driver.send(.manualRefresh)
        #expect(driver.refreshes.count == 2)
    }

    @Test func oneRefreshAtATime() {
        var machine = SSOTokenRefreshMachine()
        var random = SplitMix64(seed: 5)
        let token = makeToken(at: start, lifetime: 300)
        _ = machine.handle(.tick, now: start, using: &random)
        #expect(machine.handle(.cacheLoaded(token), now: start, using: &random) == [.publish(token), .refresh(token)])
        for event in [SSOTokenRefreshMachine.Event.manualRefresh, .cacheChanged, .tick] {
            #expect(machine.handle(event, now: start, using: &random).isEmpty)
        }
        // A late answer to a cache read nobody asked for changes nothing.
        #expect(machine.handle(.cacheLoaded(makeToken(at: start, id: "late")), now: start, using: &random).isEmpty)
        #expect(machine.state == .refreshing(failures: 0))
    }

    @Test func aShortLivedTokenCannotDriveARefreshLoop() {
        let schedule = SSOTokenRefreshMachine.Schedule()
        let obtained = start
        let refreshAt = schedule.refreshTime(expiresAt: obtained.addingTimeInterval(600), obtainedAt: obtained, loadedAt: obtained, jitter: 0)
        #expect(refreshAt == obtained.addingTimeInterval(150))
        // A cached token with no known start is refreshed at once when already inside the lead time.
        let cached = schedule.refreshTime(expiresAt: start.addingTimeInterval(600), obtainedAt: nil, loadedAt: start, jitter: 0)
        #expect(cached <= start)
        let eightHours = schedule.refreshTime(expiresAt: start.addingTimeInterval(8 * 3600), obtainedAt: start, loadedAt: start, jitter: 0)
        #expect(eightHours == start.addingTimeInterval(8 * 3600 * 2 / 3))
    }

    @Test func nothingSecretInTheMachineOrItsActions() {
        var machine = SSOTokenRefreshMachine()
        var random = SplitMix64(seed: 9)
        let token = makeToken(at: start, lifetime: 300)
        var actions = machine.handle(.tick, now: start, using: &random)
        actions += machine.handle(.cacheLoaded(token), now: start, using: &random)
        let response = SSOTokenResponse(accessToken: Secret("access-new-secret"), expiresIn: 3600, refreshToken: Secret("refresh-new-secret"))
        actions += machine.handle(.refreshSucceeded(response), now: start, using: &random)
        let texts = [String(describing: machine), String(reflecting: machine), String(describing: actions), String(describing: response)]
        for text in texts {
            expectNoSecrets(text, [token.accessToken, token.refreshToken, token.clientSecret, response.accessToken, response.refreshToken])
        }
    }
}

extension SSOTokenRefreshMachine.State {
    var isNeedsLogin: Bool {
        if case .needsLogin = self { return true }
        return false
    }
}

extension SSOTokenRefreshMachine {
    var status: State { state }
}
