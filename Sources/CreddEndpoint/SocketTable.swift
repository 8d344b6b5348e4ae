import FoundationEssentials

/// One end of a TCP connection: an address in 16-byte IPv6 form (IPv4 as `::ffff:a.b.c.d`, so
/// both kernel tables and both socket families compare alike) and a port.
public struct SocketEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let address: [UInt8]
    public let port: UInt16

    /// `address` holds 4 (IPv4) or 16 (IPv6) bytes in network order; anything else is `nil`.
    public init?(address: [UInt8], port: UInt16) {
        switch address.count {
        case 4: self.address = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address
        case 16: self.address = address
        default: return nil
        }
        self.port = port
    }

    /// An IPv4 address, in its IPv6 form `::ffff:a.b.c.d`.
    var isIPv4Mapped: Bool {
        address.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF])
    }

    public var description: String {
        if isIPv4Mapped {
            return address.suffix(4).map(String.init).joined(separator: ".") + ":\(port)"
        }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }
}

/// A row of `/proc/net/tcp` or `/proc/net/tcp6`: a socket's two ends and the uid that owns it.
public struct SocketTableEntry: Sendable, Hashable {
    /// The socket's own end.
    public let local: SocketEndpoint
    /// The end it is connected to (all zeros for a listening socket).
    public let remote: SocketEndpoint
    /// The user that created the socket.
    public let uid: UInt32
}

/// Reads the kernel's TCP socket tables (`/proc/net/tcp`, `/proc/net/tcp6`).
///
/// Row format: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode …`, where an address is
/// hex `ADDR:PORT`. The kernel prints each 32-bit word of the address as a native-endian integer
/// (so 127.0.0.1 reads `0100007F` on little-endian machines) and the port as a plain number.
public enum SocketTable {
    /// Every row of `text` that parses; the header and malformed rows are skipped.
    public static func parse(_ text: String) -> [SocketTableEntry] {
        text.split(separator: "\n").compactMap(parseRow)
    }

    /// The uid owning the socket whose local end is `client` and whose peer is `server`: the
    /// client's side of a connection to us. `nil` when no row matches.
    public static func ownerUID(client: SocketEndpoint, server: SocketEndpoint, in text: String) -> UInt32? {
        for line in text.split(separator: "\n") {
            guard let entry = parseRow(line) else { continue }
            if entry.local == client && entry.remote == server { return entry.uid }
        }
        return nil
    }

    static func parseRow(_ line: Substring) -> SocketTableEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 7, fields[0].hasSuffix(":"),
            let local = parseEndpoint(fields[1]),
            let remote = parseEndpoint(fields[2]),
            let uid = UInt32(fields[7])
        else { return nil }
        return SocketTableEntry(local: local, remote: remote, uid: uid)
    }

    static func parseEndpoint(_ field: Substring) -> SocketEndpoint? {
        let parts = field.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 4, let port = UInt16(parts[1], radix: 16) else { return nil }
        let hex = parts[0]
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(hex.count / 2)
        var wordStart = hex.startIndex
        while wordStart < hex.endIndex {
            let wordEnd = hex.index(wordStart, offsetBy: 8)
            guard let word = UInt32(hex[wordStart..<wordEnd], radix: 16) else { return nil }
            // The kernel printed the word from memory in host order; its bytes in memory are the address bytes.
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
            wordStart = wordEnd
        }
        return SocketEndpoint(address: bytes, port: port)
    }
}
