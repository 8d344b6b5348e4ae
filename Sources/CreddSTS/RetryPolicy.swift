import CreddPlatform

/// How many times a retryable failure is retried inside one call, and how long to wait.
///
/// Delays use exponential backoff with full jitter: before retry `n` (1-based) the client waits a
/// uniformly random time in `0...min(maxDelay, baseDelay * 2^(n-1))`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in total, the first included; at least 1.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// botocore's "standard" mode: 3 attempts, 1 s base, 20 s cap.
    public static let `default` = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(20))

    /// The upper bound of the jittered delay before retry `retryNumber` (1-based).
    public func delayCeiling(beforeRetry retryNumber: Int) -> Duration {
        let exponent = min(max(retryNumber - 1, 0), 30)
        let ceiling = baseDelay * (1 << exponent)
        return min(ceiling, maxDelay)
    }
}

/// The randomness and the waiting behind retries, injected so tests run instantly and deterministically.
public struct RetryTiming: Sendable {
    /// Returns a value uniformly distributed in `0...1`.
    public var unitRandom: @Sendable () -> Double
    /// Waits for the given time; throws when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(unitRandom: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.unitRandom = unitRandom
        self.sleep = sleep
    }

    /// System randomness and a sleep on the event loop (``EventLoopClock``).
    public static let live = RetryTiming(
        unitRandom: { Double.random(in: 0...1) },
        sleep: { try await EventLoopClock().sleep(for: $0) }
    )

    /// The full-jitter delay before retry `retryNumber` under `policy`.
    func delay(beforeRetry retryNumber: Int, policy: RetryPolicy) -> Duration {
        let fraction = min(max(unitRandom(), 0), 1)
        return policy.delayCeiling(beforeRetry: retryNumber) * fraction
    }
}
