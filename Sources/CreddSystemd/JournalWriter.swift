import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Delivers one structured entry to the journal. Injected so the handler's fallback path is testable.
public protocol JournalWriter: Sendable {
    func write(_ fields: [JournalField]) throws(SystemdError)
}

/// Writes entries with libsystemd's `sd_journal_sendv`: journald's native protocol, which carries
/// any value, newlines included, and passes an entry too large for a datagram in a memfd.
public struct NativeJournalWriter: JournalWriter {
    public init() {}

    public func write(_ fields: [JournalField]) throws(SystemdError) {
        let entries = fields.map { Array("\($0.name)=\($0.value)".utf8) }
        var vectors: [iovec] = []
        vectors.reserveCapacity(entries.count)
        let sent: CInt = Self.withBuffers(entries[...], &vectors) { vectors in
            sd_journal_sendv(vectors, CInt(vectors.count))
        }
        // No journald on this machine: sd_journal_sendv drops the entry and says 0. A socket
        // nobody reads (journald died) is an error, which the handler writes to stderr.
        if sent < 0 { throw SystemdError(.journalSendFailed(errno: -sent)) }
    }

    /// Runs `body` with one iovec per entry, each pointing into its bytes.
    private static func withBuffers(
        _ entries: ArraySlice<[UInt8]>, _ vectors: inout [iovec], _ body: ([iovec]) -> CInt
    ) -> CInt {
        guard let first = entries.first else { return body(vectors) }
        return first.withUnsafeBytes { bytes in
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
            return withBuffers(entries.dropFirst(), &vectors, body)
        }
    }
}
