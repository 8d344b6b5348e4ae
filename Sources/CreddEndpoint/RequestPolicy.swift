import FoundationEssentials
import Glibc

/// Checks that keep the endpoint to local, non-browser clients: the `Host` a request names
/// (DNS-rebinding defence), the headers a browser adds to cross-origin requests and the ones a
/// proxy adds to requests it relays.
enum RequestPolicy {
    /// Whether a `Host` header value names this machine: a loopback IP literal (`127.0.0.0/8`,
    /// `[::1]`), `localhost` or the IMDS address `169.254.169.254`, each with an optional port.
    /// Any other name could be an attacker's domain re-pointed at 127.0.0.1.
    ///
    /// Checked on every request, so on the bytes, without copies; only the rare bracketed IPv6
    /// form goes through `inet_pton`.
    static func isAllowedHost(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            if bytes.first == UInt8(ascii: "[") {
                guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
                let rest = bytes[(close + 1)...]
                if let first = rest.first {
                    guard first == UInt8(ascii: ":"), isPort(rest.dropFirst()) else { return false }
                }
                return isLoopbackIPv6(String(decoding: bytes[1..<close], as: UTF8.self))
            }
            let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
            // A second colon fails as a non-digit in the port.
            if let colon, !isPort(bytes[(colon + 1)...]) { return false }
            let host = bytes[..<(colon ?? bytes.endIndex)]
            return isASCIICaseInsensitive(host, equalTo: "localhost") || host.elementsEqual("169.254.169.254".utf8)
                || isLoopbackIPv4(host)
        }
    }

    private static func isPort(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        (1...5).contains(bytes.count) && bytes.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isASCIICaseInsensitive(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, equalTo lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        // Setting bit 5 lowercases ASCII letters; `expected` holds only letters.
        return bytes.count == expected.count && zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 }
    }

    /// Whether the request carries what browsers send with requests a web page makes: an
    /// `Origin`, or `Sec-Fetch-Site` saying it comes from another site.
    static func looksLikeBrowserRequest(origin: [String], fetchSite: [String]) -> Bool {
        if !origin.isEmpty { return true }
        return fetchSite.contains { site in
            let normalized = site.trimmingWhitespace().lowercased()
            return normalized == "cross-site" || normalized == "same-site"
        }
    }

    /// Whether a header is one that proxies add to requests they relay: a local proxy the user
    /// runs could otherwise relay other users' requests as the user's own.
    static func isRelayHeader(_ name: String) -> Bool {
        let name = name.lowercased()
        return relayHeaders.contains(name) || name.hasPrefix("x-forwarded-")
    }

    private static let relayHeaders: Set<String> = ["via", "forwarded", "x-real-ip", "client-ip", "true-client-ip"]

    /// Whether `text` is a dotted-quad IPv4 address in `127.0.0.0/8`, in the only form `inet_pton`
    /// accepts: four decimal numbers up to 255, without leading zeros.
    static func isLoopbackIPv4(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isLoopbackIPv4($0[...]) }
    }

    private static func isLoopbackIPv4(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var octets = 0
        var value = 0
        var digits = 0
        var firstOctet = -1
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return false }
                if octets == 0 { firstOctet = value }
                octets += 1
                value = 0
                digits = 0
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                // "0" is an octet, "01" is not.
                guard !(digits > 0 && value == 0) else { return false }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard value <= 255 else { return false }
            } else {
                return false
            }
        }
        return octets == 3 && digits > 0 && firstOctet == 127
    }

    static func isLoopbackIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return false }
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        let isIPv6Loopback = bytes == [UInt8](repeating: 0, count: 15) + [1]
        let isMappedIPv4Loopback = bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] && bytes[12] == 127
        return isIPv6Loopback || isMappedIPv4Loopback
    }
}
