import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Delivers one structured entry to the journal. Injected so the handler's fallback path is testable.
public protocol JournalWriter: Sendable {
    func write(_ fields: [JournalField]) throws(SystemdError)
}

/// Writes entries over journald's native protocol with `sd_journal_sendv`, which carries any value
/// (including newlines) without escaping.
public struct LibsystemdJournalWriter: JournalWriter {
    public init() {}

    public func write(_ fields: [JournalField]) throws(SystemdError) {
        // One contiguous buffer keeps every iovec's pointer valid for the single call below.
        let assignments = fields.map { Array($0.assignment.utf8) }
        var storage = assignments.flatMap { $0 }
        let result = storage.withUnsafeMutableBytes { bytes -> CInt in
            guard let base = bytes.baseAddress else { return -EINVAL }
            var vectors: [iovec] = []
            var offset = 0
            for assignment in assignments {
                vectors.append(iovec(iov_base: base + offset, iov_len: assignment.count))
                offset += assignment.count
            }
            return sd_journal_sendv(vectors, CInt(vectors.count))
        }
        if result < 0 {
            throw SystemdError(.journalSendFailed(errno: -result))
        }
    }
}
