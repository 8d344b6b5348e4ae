#if canImport(Glibc)
import Glibc
#endif

/// Delivers one structured entry to the journal. Injected so the handler's fallback path is testable.
public protocol JournalWriter: Sendable {
    func write(_ fields: [JournalField]) throws(SystemdError)
}

/// Writes entries over journald's native protocol (one datagram per entry to
/// `/run/systemd/journal/socket`), which carries any value, newlines included, without escaping.
public struct NativeJournalWriter: JournalWriter {
    static let socketPath = "/run/systemd/journal/socket"

    public init() {}

    public func write(_ fields: [JournalField]) throws(SystemdError) {
        let failure = UnixDatagram.send(Self.datagram(fields), to: Self.socketPath)
        // No socket at all: no journald on this machine. sd_journal_sendv(3) drops the entry then,
        // and so does credd; a socket nobody reads (journald died) is an error. So is an entry
        // over the datagram limit (EMSGSIZE, ~200 KiB; credd's are lines), which the handler
        // then writes to stderr, where sd_journal_sendv would pass it in a memfd.
        if failure != 0 && failure != ENOENT {
            throw SystemdError(.journalSendFailed(errno: failure))
        }
    }

    /// The native protocol's entry: `NAME=value\n` per field, or for a value with a newline
    /// `NAME\n`, its length as a 64-bit little-endian integer, the value and `\n`.
    static func datagram(_ fields: [JournalField]) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in fields {
            let value = Array(field.value.utf8)
            bytes += field.name.utf8
            if value.contains(UInt8(ascii: "\n")) {
                bytes.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(value.count).littleEndian) { bytes += $0 }
            } else {
                bytes.append(UInt8(ascii: "="))
            }
            bytes += value
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }
}
