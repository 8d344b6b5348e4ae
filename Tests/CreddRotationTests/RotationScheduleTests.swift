import CreddConfig
import CreddCore
import CreddRefresh
import CreddSTS
import CreddTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CreddRotation

/// Fixtures for scheduled rotation: fake key ids carry EXAMPLE; no secret ever reaches status.
enum RotationFixtures {
    static let oldId = "AKIAEXAMPLEOLD000001"
    static let newId = "AKIAEXAMPLENEW000002"
    static let strayId = "AKIAEXAMPLESTRAY0003"
    static let secret = "ROTATIONsecret/never+print/0123456789abcd"
    static let now = Keys.now
    static let day: TimeInterval = 86_400
    static let ninetyDays = interval(90 * 86_400)
    static let endpoint = STSEndpoint(url: URL(fileURLWithPath: "/"), signingRegion: "us-east-1")

    static func interval(_ seconds: Int) -> RotationInterval {
        guard let interval = RotationInterval(seconds: seconds) else { preconditionFailure("intervals are positive") }
        return interval
    }

    static let fileLocation = KeyLocation.credentialsFile(path: "/home/alice/.aws/credentials", section: "alice")

    static func job(interval: RotationInterval = ninetyDays, keyId: String = oldId, sessions: [String] = ["mfa"]) -> RotationJob {
        RotationJob(
            location: fileLocation, interval: interval, profiles: ["mfa"], mfaSessionProfiles: sessions, stsEndpoint: endpoint,
            accessKeyId: keyId)
    }

    /// The same keys in the keyring item of `alice`: no key id is known from the config.
    static func keyringJob(interval: RotationInterval = ninetyDays) -> RotationJob {
        RotationJob(
            location: .keyring(profile: "alice"), interval: interval, profiles: ["mfa"], mfaSessionProfiles: ["mfa"],
            stsEndpoint: endpoint, accessKeyId: nil)
    }

    /// Loads `config` as credd's config from a throw-away home whose `~/.aws/credentials` holds
    /// `[alice]` with key `keyId` (plus session keys in `[session]`) and whose `~/.aws/config`
    /// has a `credential_process` profile `vault`.
    static func load(_ config: String, keyId: String = oldId) throws -> LoadedConfiguration {
        let directory = try TemporaryDirectory(prefix: "credd-plan")
        defer { directory.remove() }
        try directory.write(
            ".aws/credentials",
            """
            [alice]
            aws_access_key_id = \(keyId)
            aws_secret_access_key = \(secret)

            [session]
            aws_access_key_id = ASIAEXAMPLESESSION01
            aws_secret_access_key = \(secret)
            aws_session_token = token

            """)
        try directory.write(".aws/config", "[profile vault]\ncredential_process = /bin/false\n")
        let path = try directory.write("config", config)
        return try ConfigLoader.load(explicitPath: path, environment: ["HOME": directory.path])
    }

    /// `[profile mfa]` with MFA and `rotate_after` on the keys in `[alice]`.
    static func mfaConfiguration(interval: RotationInterval = ninetyDays, keyId: String = oldId) throws -> LoadedConfiguration {
        try load(
            "[profile mfa]\nsource_profile = alice\nmfa_serial = arn:aws:iam::111111111111:mfa/alice\nrotate_after = \(interval)\n", keyId: keyId)
    }

    static func age(_ id: String = oldId, created: Date, leftovers: [String] = []) -> KeyAge {
        KeyAge(
            section: "alice", userName: "alice", accessKeyId: id, createDate: created, age: now.timeIntervalSince(created), leftoverKeyIds: leftovers)
    }

    static func report(created: Date) -> KeyRotationReport {
        KeyRotationReport(
            location: fileLocation, userName: "alice", oldAccessKeyId: oldId, newAccessKeyId: newId,
            newKeyCreateDate: created, acceptanceAttempts: 1,
            inventory: KeyInventory(userName: "alice", keys: [.init(accessKeyId: newId, status: .active)], fileHolds: newId))
    }

    /// DeleteAccessKey failed: the file holds the new key, the old one is left (inactive).
    static let deleteFailed = KeyRotationError(
        location: fileLocation, stage: .deletingOldKey,
        cause: .aws(
            AWSQueryError(
                service: "IAM", action: "DeleteAccessKey", kind: .service, code: "AccessDenied", message: "not allowed", requestId: "req-1",
                httpStatus: 403, attempts: 1, disposition: .needsChange)),
        inventory: KeyInventory(
            userName: "alice", keys: [.init(accessKeyId: oldId, status: .inactive), .init(accessKeyId: newId, status: .active)], fileHolds: newId),
        rollbackFailures: [], changedNothing: false)

    static let listFailed = KeyRotationError(
        location: fileLocation, stage: .listingKeys,
        cause: .aws(
            AWSQueryError(
                service: "IAM", action: "ListAccessKeys", kind: .service, code: "Throttling", message: "slow down", requestId: "req-2",
                httpStatus: 400, attempts: 3, disposition: .retryable)),
        inventory: nil, rollbackFailures: [], changedNothing: true)
}

@Suite struct KeyRotationScheduleTests {
    typealias F = RotationFixtures

    @Test func checksTheKeyAgeFirst() {
        let schedule = KeyRotationSchedule(job: F.job())
        #expect(schedule.nextStep(now: F.now) == .inspect)
        let status = schedule.status(rotateAfter: F.ninetyDays, now: F.now)
        #expect(status.state == "pending")
        #expect(status.keyId == nil && status.nextRotation == nil)
    }

    @Test func aYoungKeyWaitsUntilItIsDue() {
        var schedule = KeyRotationSchedule(job: F.job())
        let created = F.now.addingTimeInterval(-10 * F.day)
        schedule.begin(.inspect)
        #expect(schedule.status(rotateAfter: F.ninetyDays, now: F.now).state == "checking")
        schedule.inspected(F.age(created: created), of: F.job(), now: F.now)
        let due = created.addingTimeInterval(90 * F.day)
        #expect(schedule.nextStep(now: F.now) == .wait(until: due))
        #expect(schedule.nextStep(now: due.addingTimeInterval(-1)) == .wait(until: due))
        #expect(schedule.nextStep(now: due) == .rotate)

        let status = schedule.status(rotateAfter: F.ninetyDays, now: F.now)
        #expect(status.state == "scheduled")
        #expect(status.keyId == F.oldId)
        #expect(status.keyAgeSeconds == 10 * 86_400)
        #expect(status.keyCreated == AWSTimestamp.format(created))
        #expect(status.nextRotation == AWSTimestamp.format(due))
        #expect(status.leftoverKeyIds.isEmpty && status.lastError == nil && status.unavailableReason == nil)
        #expect(status.keysIn == "credentials_file")
    }

    /// `credd rotate` or `credd keys add` may have replaced a keyring item's key without a config
    /// change: once due, the key there now is checked before it is replaced.
    @Test func aKeyringKeyIsCheckedAgainOnceDueBeforeItIsRotated() {
        let job = F.keyringJob()
        var schedule = KeyRotationSchedule(job: job)
        let created = F.now.addingTimeInterval(-10 * F.day)
        schedule.inspected(F.age(created: created), of: job, now: F.now)
        let due = created.addingTimeInterval(90 * F.day)
        #expect(schedule.nextStep(now: F.now) == .wait(until: due))
        #expect(schedule.nextStep(now: due) == .inspect)

        // Still the old key: rotate it now.
        schedule.inspected(F.age(created: created), of: job, now: due)
        #expect(schedule.nextStep(now: due) == .rotate)

        // Replaced meanwhile by a new key: wait for that one instead.
        var replaced = KeyRotationSchedule(job: job)
        replaced.inspected(F.age(created: created), of: job, now: F.now)
        replaced.inspected(F.age(F.newId, created: due.addingTimeInterval(-F.day)), of: job, now: due)
        #expect(replaced.nextStep(now: due) == .wait(until: due.addingTimeInterval(89 * F.day)))
        #expect(replaced.status(rotateAfter: F.ninetyDays, now: due).keyId == F.newId)
        #expect(replaced.status(rotateAfter: F.ninetyDays, now: due).keysIn == "keyring")
    }

    @Test func aKeyringKeyAlreadyDueAtTheFirstCheckIsRotatedAtOnce() {
        let job = F.keyringJob()
        var schedule = KeyRotationSchedule(job: job)
        schedule.inspected(F.age(created: F.now.addingTimeInterval(-100 * F.day)), of: job, now: F.now)
        #expect(schedule.nextStep(now: F.now) == .rotate)
    }

    @Test func anOldKeyIsRotatedAtOnceThenCheckedAgain() {
        var schedule = KeyRotationSchedule(job: F.job())
        schedule.inspected(F.age(created: F.now.addingTimeInterval(-100 * F.day)), of: F.job(), now: F.now)
        #expect(schedule.nextStep(now: F.now) == .rotate)
        schedule.begin(.rotate)
        #expect(schedule.status(rotateAfter: F.ninetyDays, now: F.now).state == "rotating")
        schedule.rotated(F.report(created: F.now), now: F.now)
        #expect(schedule.nextStep(now: F.now) == .inspect, "ListAccessKeys again after every rotation")
        let status = schedule.status(rotateAfter: F.ninetyDays, now: F.now)
        #expect(status.keyId == F.newId)
        #expect(status.lastRotation == AWSTimestamp.format(F.now))
        #expect(status.nextRotation == AWSTimestamp.format(F.now.addingTimeInterval(90 * F.day)))
    }

    @Test func failuresBackOffExponentiallyUpToSixHours() {
        var schedule = KeyRotationSchedule(job: F.job())
        var now = F.now
        var waits: [TimeInterval] = []
        for _ in 0..<12 {
            schedule.begin(.inspect)
            schedule.failed(F.listFailed, now: now)
            guard case let .wait(until) = schedule.nextStep(now: now) else {
                Issue.record("a failure must wait")
                return
            }
            waits.append(until.timeIntervalSince(now).rounded())
            now = until
            #expect(schedule.nextStep(now: now) == .inspect)
        }
        #expect(waits.prefix(4) == [60, 120, 240, 480])
        #expect(waits.last == 21_600.0)
        let status = schedule.status(rotateAfter: F.ninetyDays, now: now)
        #expect(status.state == "retrying")
        #expect(status.lastError?.contains("Throttling") == true)

        schedule.inspected(F.age(created: F.now.addingTimeInterval(-F.day)), of: F.job(), now: now)
        #expect(schedule.status(rotateAfter: F.ninetyDays, now: now).lastError == nil, "a good check clears a check's error")
        #expect(schedule.consecutiveFailures == 0)
    }

    @Test func aFailedRotationNamesTheLeftoverKeyAndKeepsBackingOff() {
        var schedule = KeyRotationSchedule(job: F.job())
        schedule.inspected(F.age(created: F.now.addingTimeInterval(-100 * F.day)), of: F.job(), now: F.now)
        schedule.begin(.rotate)
        schedule.failed(F.deleteFailed, now: F.now)
        var status = schedule.status(rotateAfter: F.ninetyDays, now: F.now)
        #expect(status.state == "retrying")
        #expect(status.leftoverKeyIds == [F.oldId])
        #expect(status.keyId == nil, "the file holds a key whose age is not known yet")
        #expect(status.lastError?.contains("--access-key-id \(F.oldId)") == true)
        #expect(schedule.nextStep(now: F.now) == .wait(until: F.now.addingTimeInterval(60)))

        // The check after the back-off finds the new key in the file, young: nothing is due;
        // the leftover and the error that left it stay named.
        let later = F.now.addingTimeInterval(60)
        #expect(schedule.nextStep(now: later) == .inspect)
        schedule.inspected(F.age(F.newId, created: F.now, leftovers: [F.oldId]), of: F.job(), now: later)
        status = schedule.status(rotateAfter: F.ninetyDays, now: later)
        #expect(status.state == "scheduled")
        #expect(status.keyId == F.newId)
        #expect(status.leftoverKeyIds == [F.oldId])
        #expect(status.lastError?.contains("DeleteAccessKey") == true)
        #expect(schedule.consecutiveFailures == 0, "nothing is due, so nothing is being retried")

        // Only a successful rotation clears it.
        schedule.rotated(F.report(created: later), now: later)
        #expect(schedule.status(rotateAfter: F.ninetyDays, now: later).lastError == nil)
    }

    @Test func aRotationThatKeepsFailingWaitsLongerEachTime() {
        var schedule = KeyRotationSchedule(job: F.job())
        let old = F.now.addingTimeInterval(-100 * F.day)
        var now = F.now
        var waits: [TimeInterval] = []
        for _ in 0..<3 {
            schedule.inspected(F.age(created: old, leftovers: [F.strayId]), of: F.job(), now: now)
            #expect(schedule.nextStep(now: now) == .rotate)
            schedule.begin(.rotate)
            schedule.failed(F.listFailed, now: now)
            guard case let .wait(until) = schedule.nextStep(now: now) else { return }
            waits.append(until.timeIntervalSince(now).rounded())
            now = until
        }
        #expect(waits == [60, 120, 240], "a good check in between does not reset a failing rotation's back-off")
    }

    @Test func aConfigChangeChecksAgainAtOnceEvenWhileBackingOff() {
        var schedule = KeyRotationSchedule(job: F.job())
        schedule.inspected(F.age(created: F.now.addingTimeInterval(-F.day)), of: F.job(), now: F.now)
        schedule.reconfigure(F.job())
        #expect(schedule.nextStep(now: F.now) != .inspect, "the same job changes nothing")

        schedule.begin(.inspect)
        schedule.failed(F.listFailed, now: F.now)
        let shorter = F.job(interval: F.interval(3600))
        schedule.reconfigure(shorter)
        #expect(schedule.nextStep(now: F.now) == .inspect)
        schedule.inspected(F.age(created: F.now.addingTimeInterval(-F.day)), of: shorter, now: F.now)
        #expect(schedule.nextStep(now: F.now) == .rotate, "a day-old key is due under rotate_after = 1h")
    }

    @Test func aCheckThatRaceWithAConfigChangeIsDoneAgain() {
        var schedule = KeyRotationSchedule(job: F.job())
        schedule.begin(.inspect)
        schedule.reconfigure(F.job(keyId: F.newId))
        schedule.inspected(F.age(created: F.now), of: F.job(), now: F.now)
        #expect(schedule.nextStep(now: F.now) == .inspect)
        #expect(schedule.status(rotateAfter: F.ninetyDays, now: F.now).state == "pending")
    }
}

@Suite struct RotationPlanTests {
    @Test func profilesSharingKeysShareOneJobWithTheShortestInterval() throws {
        let configuration = try RotationFixtures.load(
            """
            [profile mfa]
            source_profile = alice
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            rotate_after = 90d

            [profile plain]
            source_profile = alice
            rotate_after = 30d

            [profile dev]
            source_profile = mfa
            role_arn = arn:aws:iam::222222222222:role/Developer

            [profile other]
            source_profile = alice
            """)
        #expect(configuration.errors == [])
        let plan = RotationPlan(configuration)
        #expect(plan.unavailable.isEmpty)
        let job = try #require(plan.jobs.first)
        #expect(plan.jobs.count == 1)
        #expect(job.section == "alice")
        #expect(job.interval == RotationFixtures.interval(30 * 86_400))
        #expect(job.profiles == ["mfa", "plain"])
        #expect(job.mfaSessionProfiles == ["mfa"])
        #expect(job.accessKeyId == RotationFixtures.oldId)
        #expect(plan.job(covering: "plain") == job)
        #expect(plan.job(covering: "other") == nil)
    }

    @Test func afterARotationOnlyFailedProfilesOfThoseKeysAreRetried() throws {
        let configuration = try RotationFixtures.load(
            """
            [profile mfa]
            source_profile = alice
            mfa_serial = arn:aws:iam::111111111111:mfa/alice
            rotate_after = 90d

            [profile dev]
            source_profile = mfa
            role_arn = arn:aws:iam::222222222222:role/Developer

            [profile healthy]
            source_profile = alice

            [profile tool]
            source_profile = vault
            role_arn = arn:aws:iam::333333333333:role/Tool
            """)
        func status(_ name: String, _ state: ProfileState) -> ProfileStatus {
            ProfileStatus(name: name, state: state, expiration: nil, nextRefresh: nil, lastRefresh: nil, lastError: nil, sourceProfile: nil)
        }
        let statuses = [status("mfa", .fresh), status("dev", .error), status("healthy", .fresh), status("tool", .error)]
        // `dev` signed with the deleted key; `tool` fails for its own reasons and other keys.
        #expect(RotationPlan.profilesToRetry(afterRotating: "alice", statuses: statuses, in: configuration) == ["dev"])
        #expect(RotationPlan.profilesToRetry(afterRotating: "bob", statuses: statuses, in: configuration) == [])
    }

    @Test func sourcesThatAreNotWritableKeysAreUnavailableWithAReason() throws {
        let configuration = try RotationFixtures.load(
            """
            [profile tool]
            source_profile = vault
            role_arn = arn:aws:iam::333333333333:role/Tool
            rotate_after = 30d

            [profile chained]
            source_profile = session
            role_arn = arn:aws:iam::333333333333:role/Tool
            rotate_after = 30d
            """)
        let plan = RotationPlan(configuration)
        #expect(plan.jobs.isEmpty)
        #expect(plan.unavailable["tool"]?.contains("credential_process") == true)
        #expect(plan.unavailable["chained"]?.contains("session credentials") == true)
    }
}

/// The scheduler actor with a manual clock and a scripted rotator: it checks at start, sleeps
/// (no polling) until the key is due, rotates, reports the new key, checks again, and wakes
/// for a config change.
@Suite struct RotationSchedulerTests {
    typealias F = RotationFixtures

    final class ScriptedRotator: SourceKeyRotating {
        private struct Script {
            var ages: [Result<KeyAge, KeyRotationError>]
            var rotations: [Result<KeyRotationReport, KeyRotationError>]
            var calls: [String] = []
        }

        private let script: Mutex<Script>

        init(ages: [Result<KeyAge, KeyRotationError>], rotations: [Result<KeyRotationReport, KeyRotationError>] = []) {
            script = Mutex(Script(ages: ages, rotations: rotations))
        }

        var recorded: [String] { script.withLock { $0.calls } }

        func keyAge(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyAge {
            let next = script.withLock { script -> Result<KeyAge, KeyRotationError>? in
                script.calls.append("keyAge signed=\(signingSession?.accessKeyId ?? "long-term")")
                return script.ages.isEmpty ? nil : script.ages.removeFirst()
            }
            guard let next else {
                Issue.record("unexpected ListAccessKeys")
                throw F.listFailed
            }
            return try next.get()
        }

        func rotate(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyRotationReport {
            let next = script.withLock { script -> Result<KeyRotationReport, KeyRotationError>? in
                script.calls.append("rotate")
                return script.rotations.isEmpty ? nil : script.rotations.removeFirst()
            }
            guard let next else {
                Issue.record("unexpected rotation")
                throw F.listFailed
            }
            return try next.get()
        }
    }

    actor RecordingObserver: RotationObserver {
        var events: [String] = []
        func willRotate(section: String) { events.append("will rotate \(section)") }
        func didRotate(section: String, fileHolds: String?) { events.append("\(section) holds \(fileHolds ?? "unknown")") }
    }

    @Test func sleepsUntilDueRotatesReportsTheNewKeyAndChecksAgain() async throws {
        let wallClock = ManualWallClock(F.now)
        let clock = TestClock(wallClock: wallClock)
        let interval = F.interval(3600)
        let rotator = ScriptedRotator(
            ages: [.success(F.age(created: F.now.addingTimeInterval(-1800))), .success(F.age(F.newId, created: F.now.addingTimeInterval(1800)))],
            rotations: [.success(F.report(created: F.now.addingTimeInterval(1800)))])
        let session = AWSCredentials(accessKeyId: "ASIAEXAMPLESESSION02", secretAccessKey: Secret(F.secret), sessionToken: Secret("t"))
        let scheduler = RotationScheduler(
            plan: RotationPlan(try F.mfaConfiguration(interval: interval)), rotator: rotator,
            signingSession: { names in names == ["mfa"] ? session : nil },
            wallClock: wallClock, clock: clock, logger: Logger(label: "test"))
        let observer = RecordingObserver()
        let running = Task { await scheduler.run(observer: observer) }
        defer { running.cancel() }

        var sleeps = clock.sleepStarted.makeAsyncIterator()
        let firstWake = await sleeps.next()
        #expect(rotator.recorded == ["keyAge signed=ASIAEXAMPLESESSION02"])
        #expect(firstWake == TestClock.Instant(offset: .seconds(1800)), "one sleep until the key is due, no polling")

        clock.advance(by: .seconds(1800))
        _ = await sleeps.next()
        #expect(rotator.recorded == ["keyAge signed=ASIAEXAMPLESESSION02", "rotate", "keyAge signed=ASIAEXAMPLESESSION02"])
        #expect(await observer.events == ["will rotate alice", "alice holds \(F.newId)"])
        let configuration = try F.mfaConfiguration(interval: interval, keyId: F.newId)
        let status = try #require(await scheduler.statuses(of: configuration)["mfa"])
        #expect(status.state == "scheduled")
        #expect(status.keyId == F.newId)
        #expect(status.lastRotation == AWSTimestamp.format(F.now.addingTimeInterval(1800)))
    }

    @Test func aConfigChangeWakesTheSleepingSchedulerToCheckAgain() async throws {
        let wallClock = ManualWallClock(F.now)
        let clock = TestClock(wallClock: wallClock)
        let rotator = ScriptedRotator(ages: [
            .success(F.age(created: F.now.addingTimeInterval(-F.day))), .success(F.age(F.newId, created: F.now)),
        ])
        let scheduler = RotationScheduler(
            plan: RotationPlan(try F.mfaConfiguration()), rotator: rotator, signingSession: { _ in nil }, wallClock: wallClock, clock: clock,
            logger: Logger(label: "test"))
        let running = Task { await scheduler.run(observer: RecordingObserver()) }
        defer { running.cancel() }
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        _ = await sleeps.next()
        #expect(rotator.recorded == ["keyAge signed=long-term"])

        await scheduler.update(RotationPlan(try F.mfaConfiguration(keyId: F.newId)))
        _ = await sleeps.next()
        #expect(rotator.recorded == ["keyAge signed=long-term", "keyAge signed=long-term"])
    }

    @Test func unavailableSourcesShowWhyAndAreNeverCalled() async throws {
        let configuration = try F.load("[profile tool]\nsource_profile = vault\nrole_arn = arn:aws:iam::333333333333:role/Tool\nrotate_after = 30d\n")
        let wallClock = ManualWallClock(F.now)
        let clock = TestClock(wallClock: wallClock)
        let scheduler = RotationScheduler(
            plan: RotationPlan(configuration), rotator: ScriptedRotator(ages: []), signingSession: { _ in nil }, wallClock: wallClock,
            clock: clock, logger: Logger(label: "test"))
        let running = Task { await scheduler.run(observer: RecordingObserver()) }
        defer { running.cancel() }
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        _ = await sleeps.next()
        let status = try #require(await scheduler.statuses(of: configuration)["tool"])
        #expect(status.state == "unavailable")
        #expect(status.rotateAfter == "30d")
        #expect(status.unavailableReason?.contains("credential_process") == true)
    }

}

extension RotationSchedulerTests {
    @Test func aFailedRotationReportsTheKeyTheFileHoldsAndBacksOff() async throws {
        let wallClock = ManualWallClock(F.now)
        let clock = TestClock(wallClock: wallClock)
        let rotator = ScriptedRotator(ages: [.success(F.age(created: F.now.addingTimeInterval(-100 * F.day)))], rotations: [.failure(F.deleteFailed)])
        let scheduler = RotationScheduler(
            plan: RotationPlan(try F.mfaConfiguration()), rotator: rotator, signingSession: { _ in nil }, wallClock: wallClock, clock: clock,
            logger: Logger(label: "test"))
        let observer = RecordingObserver()
        let running = Task { await scheduler.run(observer: observer) }
        defer { running.cancel() }
        var sleeps = clock.sleepStarted.makeAsyncIterator()
        let wake = await sleeps.next()
        #expect(wake == TestClock.Instant(offset: .seconds(60)), "the first retry waits a minute")
        #expect(rotator.recorded == ["keyAge signed=long-term", "rotate"])
        #expect(await observer.events == ["will rotate alice", "alice holds \(F.newId)"])
        let configuration = try F.mfaConfiguration()
        let status = try #require(await scheduler.statuses(of: configuration)["mfa"])
        #expect(status.state == "retrying")
        #expect(status.leftoverKeyIds == [F.oldId])
    }
}
