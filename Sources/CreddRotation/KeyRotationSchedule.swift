import CreddConfig
import CreddControl
import CreddCore
import FoundationEssentials

/// When to check and rotate one source's keys, and what `credd status` shows about it.
/// A value driven by `RotationScheduler`: `nextStep(now:)` says what to do, the outcome goes
/// back in, and time only ever comes in as an argument.
struct KeyRotationSchedule: Sendable, Hashable {
    /// Waits after consecutive failures: 1 min, 2 min, 4 min, … up to 6 h. IAM errors that
    /// need the user (AccessDenied, the two-key limit) would otherwise be retried in a loop.
    static let firstRetryDelay: TimeInterval = 60
    static let maximumRetryDelay: TimeInterval = 6 * 3600

    enum Step: Sendable, Hashable {
        /// List the user's keys: the file's key's age and any leftovers.
        case inspect
        case rotate
        /// Nothing to do before this time.
        case wait(until: Date)
    }

    /// The stored key as IAM listed it.
    struct ObservedKey: Sendable, Hashable {
        let accessKeyId: String
        let createDate: Date
    }

    private enum Activity: Sendable, Hashable {
        case idle, inspecting, rotating
    }

    private(set) var job: RotationJob
    private(set) var key: ObservedKey?
    private(set) var leftoverKeyIds: [String] = []
    private(set) var lastError: String?
    private(set) var lastRotation: Date?
    private(set) var consecutiveFailures = 0
    private(set) var retryAt: Date?
    /// Set at start, after every rotation attempt and when the job changes: ListAccessKeys
    /// again before trusting what was known.
    private(set) var needsInspection = true
    /// When the last successful check was.
    private(set) var lastInspection: Date?
    private var activity = Activity.idle
    /// Whether `lastError` is from a rotation (rather than a check); cleared by a successful one.
    private var rotationFailed = false

    /// Why the last rotation failed, until one succeeds; `nil` after a failed check alone.
    var rotationError: String? { rotationFailed ? lastError : nil }

    init(job: RotationJob) {
        self.job = job
    }

    func nextStep(now: Date) -> Step {
        if let retryAt, now < retryAt { return .wait(until: retryAt) }
        guard let key, !needsInspection else { return .inspect }
        let due = key.createDate.addingTimeInterval(job.interval.timeInterval)
        guard now >= due else { return .wait(until: due) }
        // Keys in the keyring change without a config change (`credd rotate`, `credd keys add`):
        // check the key that is there now, once it is due, before replacing it.
        if job.location.kind == .keyring, (lastInspection ?? .distantPast) < due { return .inspect }
        return .rotate
    }

    /// A config change. A different key, interval or signer is a reason to check again now,
    /// even after failures (as an edit is for a failed renewal); the last error stays shown.
    mutating func reconfigure(_ newJob: RotationJob) {
        guard newJob != job else { return }
        job = newJob
        needsInspection = true
        consecutiveFailures = 0
        retryAt = nil
    }

    /// A check or a rotation is under way, for `credd status`.
    mutating func begin(_ step: Step) {
        switch step {
        case .inspect: activity = .inspecting
        case .rotate: activity = .rotating
        case .wait: activity = .idle
        }
    }

    /// A successful check. A failed rotation's error stays (until a rotation succeeds: it may
    /// have left a key behind), and so does its back-off while the key is still due, so
    /// persistent failures wait longer and longer.
    /// `checked` is the job the check ran for: after a config change during the call, the
    /// result is stale and the new job is checked again.
    mutating func inspected(_ age: KeyAge, of checked: RotationJob, now: Date) {
        activity = .idle
        guard checked == job else { return }
        key = ObservedKey(accessKeyId: age.accessKeyId, createDate: age.createDate)
        leftoverKeyIds = age.leftoverKeyIds
        retryAt = nil
        needsInspection = false
        lastInspection = now
        if !rotationFailed { lastError = nil }
        if !rotationFailed || now < age.createDate.addingTimeInterval(job.interval.timeInterval) { consecutiveFailures = 0 }
    }

    mutating func rotated(_ report: KeyRotationReport, now: Date) {
        activity = .idle
        key = ObservedKey(accessKeyId: report.newAccessKeyId, createDate: report.newKeyCreateDate)
        leftoverKeyIds = report.inventory.leftoverKeys
        lastError = nil
        rotationFailed = false
        lastRotation = now
        consecutiveFailures = 0
        retryAt = nil
        needsInspection = true
    }

    /// A failed check or rotation: keep what the error says about the keys, back off.
    mutating func failed(_ error: KeyRotationError, now: Date) {
        rotationFailed = activity == .rotating
        activity = .idle
        if let inventory = error.inventory {
            leftoverKeyIds = inventory.leftoverKeys
            if key?.accessKeyId != inventory.fileHolds { key = nil }
        }
        lastError = error.description
        consecutiveFailures += 1
        retryAt = now.addingTimeInterval(
            exponentialBackoff(afterFailures: consecutiveFailures, first: Self.firstRetryDelay, maximum: Self.maximumRetryDelay))
        needsInspection = true
    }

    /// The `rotation` object of `credd status --json` for a profile covered by this job.
    func status(rotateAfter: RotationInterval, now: Date) -> StatusDocument.Rotation {
        let state: String
        switch activity {
        case .inspecting: state = "checking"
        case .rotating: state = "rotating"
        case .idle where retryAt != nil: state = "retrying"
        case .idle: state = key == nil ? "pending" : "scheduled"
        }
        var nextRotation = key.map { $0.createDate.addingTimeInterval(job.interval.timeInterval) }
        if let next = nextRotation, let retryAt { nextRotation = max(next, retryAt) }
        return StatusDocument.Rotation(
            state: state, rotateAfter: rotateAfter.description, section: job.section, keyId: key?.accessKeyId,
            keyCreated: key.map { AWSTimestamp.format($0.createDate) },
            keyAgeSeconds: key.map { max(0, Int(now.timeIntervalSince($0.createDate).rounded(.down))) },
            nextRotation: nextRotation.map(AWSTimestamp.format), lastRotation: lastRotation.map(AWSTimestamp.format),
            leftoverKeyIds: leftoverKeyIds, lastError: lastError, unavailableReason: nil,
            keysIn: job.location.kind == .keyring ? "keyring" : "credentials_file")
    }

    /// The `rotation` object for a profile whose `rotate_after` cannot be honoured.
    static func unavailableStatus(rotateAfter: RotationInterval, reason: String) -> StatusDocument.Rotation {
        StatusDocument.Rotation(
            state: "unavailable", rotateAfter: rotateAfter.description, section: nil, keyId: nil, keyCreated: nil,
            keyAgeSeconds: nil, nextRotation: nil, lastRotation: nil, leftoverKeyIds: [], lastError: nil,
            unavailableReason: reason)
    }
}
