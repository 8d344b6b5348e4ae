import FoundationEssentials
import Glibc

/// The wait after the `failures`-th consecutive failure (1-based): `first`, doubling with each
/// further failure, never more than `maximum`.
public func exponentialBackoff(afterFailures failures: Int, first: TimeInterval, maximum: TimeInterval) -> TimeInterval {
    // Capping the exponent keeps the power finite for any count; 2^30 × first is far past any cap.
    min(first * pow(2, Double(min(max(failures, 1) - 1, 30))), maximum)
}
