import CreddCore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Chooses where credd's logs go, following systemd's rule for `JOURNAL_STREAM`.
public enum CreddLogging {
    /// The handler factory for `LoggingSystem.bootstrap`: structured journal entries when stderr is
    /// the journal stream systemd set up (``stderrIsJournalStream(environment:)``), plain lines on
    /// stderr otherwise.
    public static func bootstrapHandler(
        environment: [String: String],
        logLevel: Logger.Level = .info,
        clock: any WallClock
    ) -> @Sendable (String) -> any LogHandler {
        if stderrIsJournalStream(environment: environment) {
            return { label in JournalLogHandler(label: label, logLevel: logLevel, clock: clock) }
        }
        return { label in StderrLogHandler(label: label, logLevel: logLevel, clock: clock) }
    }

    /// True when `JOURNAL_STREAM` (`DEVICE:INODE`) names this process's stderr. systemd sets it for
    /// a service whose output goes to the journal; a child that redirected stderr (or inherited the
    /// variable from a shell) fails the check, so its output stays plain (systemd.exec(5)).
    public static func stderrIsJournalStream(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        return journalStream(value, matchesFileDescriptor: STDERR_FILENO)
    }

    /// Whether `value` (`DEVICE:INODE`, both decimal) names the file open on `fileDescriptor`.
    static func journalStream(_ value: String, matchesFileDescriptor fileDescriptor: CInt) -> Bool {
        guard let expected = parseJournalStream(value) else { return false }
        var status = stat()
        guard fstat(fileDescriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == expected.device && UInt64(status.st_ino) == expected.inode
    }

    static func parseJournalStream(_ value: String) -> (device: UInt64, inode: UInt64)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
