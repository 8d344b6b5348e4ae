import FoundationEssentials

/// Unguessable, URL- and header-safe token strings.
enum RandomToken {
    /// 32 bytes from the system CSPRNG, base64url without padding: 43 characters of `[A-Za-z0-9_-]`.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
            .replacingEvery("+", with: "-")
            .replacingEvery("/", with: "_")
            .replacingEvery("=", with: "")
    }

    /// Compares in time that depends only on the lengths, so a client cannot find the token byte by byte.
    /// Checked on every container request, so on the strings' own bytes, without copies.
    static func constantTimeEquals(_ candidate: String, _ expected: String) -> Bool {
        var candidate = candidate
        var expected = expected
        return candidate.withUTF8 { lhs in
            expected.withUTF8 { rhs in
                guard lhs.count == rhs.count else { return false }
                var difference: UInt8 = 0
                for index in lhs.indices {
                    difference |= lhs[index] ^ rhs[index]
                }
                return difference == 0
            }
        }
    }
}
