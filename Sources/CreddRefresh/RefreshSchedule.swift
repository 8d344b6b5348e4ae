import CreddCore
import FoundationEssentials

/// The timing rules of docs/design.md §3, as pure functions of a session's lifetime.
///
/// Renewal is scheduled at the *latest* when `max(lifetime / 3, minimumLeadTime)` remains, moved
/// earlier by a random jitter of up to `maximumJitterFraction` of the lifetime (jitter never makes
/// renewal later). SDKs refetch on every call inside 15 minutes and block inside 10, so a 20-minute
/// lead keeps served credentials comfortably above both.
///
/// Short sessions cannot honour the lead time: a 15-minute session would be due before it was
/// obtained. To prevent a renewal storm, a renewal is never scheduled sooner than
/// `minimumRenewalFraction` of the lifetime after the previous success (a quarter: a 15-minute
/// session renews every 3¾ minutes and is served with at least 11¼ minutes left).
///
/// Profiles that wait for `credd login` ask with at least `interactiveLeadTime` (1 hour) left so
/// the user has time to answer, and never sooner than half the lifetime after the previous code,
/// so a 12-hour session asks once per ~8 hours and even a 1-hour session only once per 30 minutes.
public struct RefreshSchedule: Sendable, Hashable {
    /// Never renew later than this before expiry.
    public var minimumLeadTime: TimeInterval = 20 * 60
    /// Renew at the latest when this fraction of the lifetime remains.
    public var leadFraction: Double = 1.0 / 3.0
    /// Jitter moves renewal earlier by up to this fraction of the lifetime.
    public var maximumJitterFraction: Double = 0.1
    /// Successive renewals are at least this fraction of the lifetime apart.
    public var minimumRenewalFraction: Double = 0.25
    /// Interactive MFA profiles ask for a code with at least this much validity left.
    public var interactiveLeadTime: TimeInterval = 60 * 60
    /// Interactive MFA profiles ask at most once per this fraction of the lifetime.
    public var interactiveMinimumRenewalFraction: Double = 0.5
    /// First retry delay cap; doubles per consecutive failure.
    public var retryBaseDelay: TimeInterval = 5
    /// Upper bound of any retry delay while credentials are still in service.
    public var retryMaximumDelay: TimeInterval = 5 * 60
    /// Upper bound once nothing is in service: every caller is failing meanwhile, so credd
    /// notices the end of an outage within this (the SDKs' own retries cap at 20 s).
    public var retryMaximumDelayWithoutCredentials: TimeInterval = 30
    /// Full jitter may draw zero; this floor keeps a failing profile from retrying in a hot loop.
    public var retryMinimumDelay: TimeInterval = 1
    /// A retry is scheduled at least this long before the credentials still in service expire,
    /// so that a long backoff does not leave a gap.
    public var retryMarginBeforeExpiry: TimeInterval = 30
    /// First retry after an error that needs a change (AccessDenied, an unknown key, a bad
    /// parameter): users fix those on the AWS side, so credd looks again, slowly. Doubles per
    /// consecutive error.
    public var errorRetryBaseDelay: TimeInterval = 5 * 60
    /// Upper bound of the retries after errors that need a change.
    public var errorRetryMaximumDelay: TimeInterval = 60 * 60
    /// Jitter moves an error retry earlier by up to this fraction of its delay, so profiles that
    /// failed together do not retry together.
    public var errorRetryJitterFraction: Double = 0.2
    /// After the machine resumes from suspend, failed renewals retry every `resumeRetryDelay`
    /// for this long: the network usually comes back within seconds of waking.
    public var resumeRetryWindow: TimeInterval = 60
    public var resumeRetryDelay: TimeInterval = 2

    public init() {}

    /// When to renew a session obtained at `obtainedAt` that expires at `expiration`.
    /// - Parameters:
    ///   - interactive: the renewal needs the user to type an MFA code.
    ///   - jitter: a value in `0..<1` choosing how far within the jitter window renewal moves earlier.
    public func renewalTime(obtainedAt: Date, expiration: Date, interactive: Bool, jitter: Double) -> Date {
        let lifetime = max(0, expiration.timeIntervalSince(obtainedAt))
        let leadTime = max(lifetime * leadFraction, interactive ? interactiveLeadTime : minimumLeadTime)
        let latest = expiration.addingTimeInterval(-leadTime - jitter * maximumJitterFraction * lifetime)
        let floorFraction = interactive ? interactiveMinimumRenewalFraction : minimumRenewalFraction
        let earliest = obtainedAt.addingTimeInterval(lifetime * floorFraction)
        return max(latest, earliest)
    }

    /// When to retry after the `failedAttempts`-th consecutive failure (1-based): exponential
    /// backoff with full jitter, never past the expiry of credentials still in service.
    /// - Parameters:
    ///   - jitter: a value in `0..<1` picking the delay uniformly within the backoff window.
    ///   - servingUntil: the expiry of the credentials still in service, if any.
    public func retryTime(after failedAttempts: Int, now: Date, jitter: Double, servingUntil: Date?) -> Date {
        let inService = servingUntil.map { $0 > now } ?? false
        let window = exponentialBackoff(
            afterFailures: failedAttempts, first: retryBaseDelay,
            maximum: inService ? retryMaximumDelay : retryMaximumDelayWithoutCredentials)
        let retryAt = now.addingTimeInterval(max(retryMinimumDelay, jitter * window))
        guard let servingUntil, inService else { return retryAt }
        let lastUsefulRetry = servingUntil.addingTimeInterval(-retryMarginBeforeExpiry)
        return min(retryAt, max(lastUsefulRetry, now.addingTimeInterval(retryMinimumDelay)))
    }

    /// When to retry after the `errorRetries`-th consecutive error that needs a change (1-based):
    /// minutes at first, growing to an hour.
    /// - Parameter jitter: a value in `0..<1` choosing how far within the jitter window the retry moves earlier.
    public func errorRetryTime(after errorRetries: Int, now: Date, jitter: Double) -> Date {
        let delay = exponentialBackoff(afterFailures: errorRetries, first: errorRetryBaseDelay, maximum: errorRetryMaximumDelay)
        return now.addingTimeInterval(delay * (1 - jitter * errorRetryJitterFraction))
    }
}
