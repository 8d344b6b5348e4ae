import FoundationEssentials

/// The source of wall-clock time. Injected everywhere a decision depends on "now", so tests
/// can move time (and simulate a suspend or a clock jump) without sleeping.
public protocol WallClock: Sendable {
    func now() -> Date

    /// Returns when this clock reaches `deadline`, or earlier when the clock is set (an NTP
    /// step, `date -s`, a resume from suspend): either way the caller reads ``now()`` again.
    /// Throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Date) async throws
}
