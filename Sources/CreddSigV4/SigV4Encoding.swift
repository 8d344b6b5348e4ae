/// The URI encoding and path normalisation rules of the SigV4 canonical request; the
/// encoding is also the one AWS Query API form bodies use.
public enum SigV4Encoding {
    /// RFC 3986 percent-encoding of everything but the unreserved set `A-Z a-z 0-9 - . _ ~`.
    public static func percentEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            if isUnreserved(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = Array("0123456789ABCDEF")
                encoded += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0f)])"
            }
        }
        return encoded
    }

    /// Each `/`-separated segment encoded, the separators kept.
    static func encodedPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { percentEncode(String($0)) }
            .joined(separator: "/")
    }

    /// Removes empty, `.` and `..` segments (never above the root); keeps a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".":
                continue
            case "..":
                _ = segments.popLast()
            default:
                segments.append(segment)
            }
        }
        let joined = "/" + segments.joined(separator: "/")
        return path.hasSuffix("/") && joined != "/" ? joined + "/" : joined
    }

    /// `name=value` pairs, encoded, sorted by name then value, joined with `&`.
    static func canonicalQuery(_ items: [SigV4Request.QueryItem]) -> String {
        items.map { (name: percentEncode($0.name), value: percentEncode($0.value)) }
            .sorted { lhs, rhs in
                lhs.name == rhs.name
                    ? Array(lhs.value.utf8).lexicographicallyPrecedes(Array(rhs.value.utf8))
                    : Array(lhs.name.utf8).lexicographicallyPrecedes(Array(rhs.name.utf8))
            }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
