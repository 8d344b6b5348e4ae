import CreddConfig
import CreddControl
import CreddCore
import CreddCredentialsFile
import CreddRefresh
import CreddSTS
import FoundationEssentials
import Logging

/// Checks and rotates one job's keys. `LiveKeyRotator` in production; tests script a fake.
public protocol SourceKeyRotating: Sendable {
    func keyAge(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyAge
    func rotate(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyRotationReport
}

/// Scheduled key rotation (`rotate_after`): checks each job's key age with ListAccessKeys at
/// start and after every rotation or config change, sleeps until the next key is due (no
/// polling), rotates it with `KeyRotation`, and backs off after failures. One step at a time:
/// rotations are rare and IAM allows only two keys per user.
public actor RotationScheduler {
    /// The longest single sleep, so a wall-clock jump or a suspend is noticed within it.
    static let maximumSleep: Duration = .seconds(3600)

    private var plan: RotationPlan
    private var schedules: [String: KeyRotationSchedule]
    private let rotator: any SourceKeyRotating
    /// The current session of the first of these profiles that has one.
    private let signingSession: @Sendable ([String]) async -> AWSCredentials?
    private let wallClock: any WallClock
    private let clock: any Clock<Duration>
    private let logger: Logger
    private var sleeper: Task<Void, Never>?

    public init(
        plan: RotationPlan, rotator: any SourceKeyRotating, signingSession: @escaping @Sendable ([String]) async -> AWSCredentials?,
        wallClock: any WallClock, clock: any Clock<Duration>, logger: Logger
    ) {
        self.plan = plan
        self.rotator = rotator
        self.signingSession = signingSession
        self.wallClock = wallClock
        self.clock = clock
        self.logger = logger
        self.schedules = Self.schedules(for: plan, from: [:])
    }

    /// A reloaded config: new jobs start with a check, changed ones check again, removed ones stop.
    public func update(_ newPlan: RotationPlan) {
        plan = newPlan
        schedules = Self.schedules(for: newPlan, from: schedules)
        sleeper?.cancel()
    }

    /// Runs until cancelled.
    public func run(observer: some RotationObserver) async {
        while !Task.isCancelled {
            let now = wallClock.now()
            var wakeAt: Date?
            var acted = false
            for job in plan.jobs {
                guard let step = schedules[job.section]?.nextStep(now: now) else { continue }
                switch step {
                case .inspect:
                    await inspect(job)
                    acted = true
                case .rotate:
                    await rotate(job, observer: observer)
                    acted = true
                case let .wait(until):
                    wakeAt = min(wakeAt ?? until, until)
                }
                // Re-read the plan and the clock after every call: both may have moved.
                if acted { break }
            }
            guard !acted else { continue }
            let delay = wakeAt.map { min(Self.maximumSleep, .seconds(max(0, $0.timeIntervalSince(now)))) } ?? Self.maximumSleep
            let sleeper = Task { [clock] in _ = try? await clock.sleep(for: delay) }
            self.sleeper = sleeper
            await withTaskCancellationHandler {
                await sleeper.value
            } onCancel: {
                sleeper.cancel()
            }
            self.sleeper = nil
        }
    }

    /// The sections whose last rotation failed, with why.
    public func failedRotations() -> [String: String] {
        schedules.compactMapValues(\.rotationError)
    }

    /// The `rotation` object of each profile that sets `rotate_after`.
    public func statuses(of configuration: LoadedConfiguration) -> [String: StatusDocument.Rotation] {
        let now = wallClock.now()
        var result: [String: StatusDocument.Rotation] = [:]
        for profile in configuration.profiles {
            guard let rotateAfter = profile.rotateAfter else { continue }
            if let reason = plan.unavailable[profile.name] {
                result[profile.name] = KeyRotationSchedule.unavailableStatus(rotateAfter: rotateAfter, reason: reason)
            } else if let job = plan.job(covering: profile.name), let schedule = schedules[job.section] {
                result[profile.name] = schedule.status(rotateAfter: rotateAfter, now: now)
            }
        }
        return result
    }

    // MARK: - Steps

    /// One schedule per job, keeping what `current` knows about sections still in the plan.
    private static func schedules(for plan: RotationPlan, from current: [String: KeyRotationSchedule]) -> [String: KeyRotationSchedule] {
        var schedules: [String: KeyRotationSchedule] = [:]
        for job in plan.jobs {
            var schedule = current[job.section] ?? KeyRotationSchedule(job: job)
            schedule.reconfigure(job)
            schedules[job.section] = schedule
        }
        return schedules
    }

    private func inspect(_ job: RotationJob) async {
        schedules[job.section]?.begin(.inspect)
        do {
            let age = try await rotator.keyAge(job, signingSession: await signingSession(job.mfaSessionProfiles))
            schedules[job.section]?.inspected(age, of: job, now: wallClock.now())
            logger.info(
                "checked the access key's age",
                metadata: [
                    "credd.event": "key_age", "credd.section": "\(job.section)", "aws.access_key_id": "\(age.accessKeyId)",
                    "credd.key_age_seconds": "\(Int(age.age))", "credd.leftover_keys": "\(age.leftoverKeyIds.joined(separator: ","))",
                ])
        } catch {
            schedules[job.section]?.failed(error, now: wallClock.now())
        }
    }

    private func rotate(_ job: RotationJob, observer: some RotationObserver) async {
        schedules[job.section]?.begin(.rotate)
        logger.notice(
            "the access key is older than rotate_after; rotating it",
            metadata: ["credd.event": "key_rotation_due", "credd.section": "\(job.section)"])
        await observer.willRotate(section: job.section)
        let fileHolds: String?
        do {
            let report = try await rotator.rotate(job, signingSession: await signingSession(job.mfaSessionProfiles))
            schedules[job.section]?.rotated(report, now: wallClock.now())
            fileHolds = report.newAccessKeyId
        } catch {
            schedules[job.section]?.failed(error, now: wallClock.now())
            // Without an inventory the rotation stopped before it could change the file or keyring.
            fileHolds = error.inventory?.fileHolds ?? job.accessKeyId
        }
        await observer.didRotate(section: job.section, fileHolds: fileHolds)
    }
}

/// What the daemon does around each rotation: the credentials file is re-read (the file
/// watcher may do it mid-rotation too) and renewals must then sign with the key it holds; keys
/// in the keyring are read at each renewal anyway.
public protocol RotationObserver: Sendable {
    /// Before anything changes.
    func willRotate(section: String) async
    /// After the rotation, whatever its outcome, with the key id the credentials file section or
    /// keyring item holds now (`nil` for a keyring item the rotation could not read).
    func didRotate(section: String, fileHolds: String?) async
}

/// Scheduled rotation with the real IAM and STS clients and the credentials file or keyring.
extension LiveKeyRotator: SourceKeyRotating {
    public func keyAge(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyAge {
        try await rotation(for: job).keyAge(signingSession: signingSession)
    }

    public func rotate(_ job: RotationJob, signingSession: AWSCredentials?) async throws(KeyRotationError) -> KeyRotationReport {
        try await rotation(for: job).rotate(signingSession: signingSession)
    }

    private func rotation(for job: RotationJob) throws(KeyRotationError) -> KeyRotation {
        try rotation(of: job.location, stsEndpoint: job.stsEndpoint)
    }
}
