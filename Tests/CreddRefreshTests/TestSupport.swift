import CreddCore
import Foundation

@testable import CreddRefresh

/// A random source that always yields the same word: `.lowest` draws 0, `.highest` draws just
/// under 1, so tests can pin jitter to either end of its range.
struct FixedRandom: RandomNumberGenerator, Sendable {
    let word: UInt64
    static let lowest = FixedRandom(word: 0)
    static let highest = FixedRandom(word: .max)
    mutating func next() -> UInt64 { word }
}

let minute: TimeInterval = 60
let hour: TimeInterval = 3600
/// 2026-01-01T00:00:00Z: a fixed start for every test.
let epoch = Date(timeIntervalSince1970: 1_767_225_600)

extension AWSCredentials {
    /// Seconds of validity left at `now`; `nil` for credentials that do not expire.
    func remainingLifetime(at now: Date) -> TimeInterval? {
        expiration.map { $0.timeIntervalSince(now) }
    }
}

/// The fake secret every test credential carries; no log line or message may contain it.
let fakeSecretValue = "FAKE-SECRET-wJalrXUtnFEMI-K7MDENG"
let fakeTokenValue = "FAKE-TOKEN-IQoJb3JpZ2luX2VjEHQaCXVz"

func sessionCredentials(expiring expiration: Date, key: String = "ASIATESTKEY") -> AWSCredentials {
    AWSCredentials(
        accessKeyId: key,
        secretAccessKey: Secret(fakeSecretValue),
        sessionToken: Secret(fakeTokenValue),
        expiration: expiration
    )
}

func spec(
    _ name: String,
    source: String? = nil,
    mfa: Bool = false,
    mfaProcess: Bool = false,
    version: Int = 1,
    identityVersion: Int? = nil
) -> ProfileSpec {
    ProfileSpec(
        name: name,
        sourceProfile: source,
        requiresMFACode: mfa,
        hasMFAProcess: mfaProcess,
        identity: "\(name)-identity-v\(identityVersion ?? version)",
        fingerprint: ConfigurationFingerprint("\(name)-v\(version)")
    )
}

extension RefreshFailure {
    static let throttled = RefreshFailure(disposition: .retryable, message: "Throttling (request id 1): retrying")
    static let accessDenied = RefreshFailure(
        disposition: .needsChange,
        message: "AccessDenied (request id 2): fix the role's trust policy, then run credd refresh"
    )
    static let wrongCode = RefreshFailure(disposition: .needsMFA, message: "AccessDenied: MFA code rejected")
    static let sourceTokenExpired = RefreshFailure(disposition: .sourceExpired, message: "ExpiredToken")
}
