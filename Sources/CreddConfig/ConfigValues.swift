import CreddCore
import FoundationEssentials

/// Validation of individual config values, following what AWS accepts. Each check returns the
/// parsed value or a message saying what a valid value looks like.
enum ConfigValues {
    // The patterns below are AWS's regular expressions matched by hand: a `Regex` literal is
    // compiled again on every call (most of a config load's CPU), and `Regex` is not Sendable,
    // so it cannot be kept in a static. Every class is ASCII, so matching UTF-8 bytes is the
    // same as matching characters. `ConfigValuesTests` checks each against its regex.

    /// `arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9_+=,.@\/-]{1,512}`, i.e.
    /// `arn:aws[-partition]:iam::123456789012:role/[path/]Name`.
    static func isRoleARN(_ value: String) -> Bool {
        isIAMARN(value, resource: "role/")
    }

    /// A virtual MFA device ARN (`arn:aws[a-z-]*:iam::[0-9]{12}:mfa\/[A-Za-z0-9_+=,.@\/-]{1,512}`),
    /// or a hardware token's serial number (`[A-Za-z0-9]{9,256}`, e.g. `GAHT12345678`).
    static func isMFASerial(_ value: String) -> Bool {
        isIAMARN(value, resource: "mfa/") || ASCIIClass.alphanumeric.matchesWhole(value.utf8[...], count: 9...256)
    }

    /// A managed policy ARN for `policy_arns`: `arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy\/[A-Za-z0-9_+=,.@\/-]{1,512}`
    /// (AWS managed policies have the account `aws`).
    static func isPolicyARN(_ value: String) -> Bool {
        isIAMARN(value, resource: "policy/", allowingAWSAccount: true)
    }

    /// STS's `RoleSessionName` pattern, `[\w+=,.@-]{2,64}`.
    static func isRoleSessionName(_ value: String) -> Bool {
        ASCIIClass.sessionName.matchesWhole(value.utf8[...], count: 2...64)
    }

    /// STS's `ExternalId`: 2 to 1224 characters of `[\w+=,.@:\/-]`.
    static func isExternalId(_ value: String) -> Bool {
        ASCIIClass.externalId.matchesWhole(value.utf8[...], count: 2...1224)
    }

    /// A region name such as `eu-west-1`, `us-gov-west-1` or `cn-north-1`:
    /// `[a-z]{2,}(-[a-z0-9]+)+`.
    static func isRegion(_ value: String) -> Bool {
        let parts = value.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count >= 2, ASCIIClass.lowercase.matchesWhole(parts[0], count: 2...Int.max) else { return false }
        return parts.dropFirst().allSatisfy { ASCIIClass.lowercaseAlphanumeric.matchesWhole($0, count: 1...Int.max) }
    }

    /// The characters the AWS SDKs accept in profile names (Java's rule, the strictest):
    /// `[A-Za-z0-9_\/.%@-]+`.
    static func isProfileName(_ value: String) -> Bool {
        ASCIIClass.profileName.matchesWhole(value.utf8[...], count: 1...Int.max)
    }

    /// `arn:aws[a-z-]*:iam::[0-9]{12}:` then `resource`, then 1 to 512 of `[A-Za-z0-9_+=,.@\/-]`.
    private static func isIAMARN(_ value: String, resource: String, allowingAWSAccount: Bool = false) -> Bool {
        var rest = value.utf8[...]
        guard rest.starts(with: "arn:aws".utf8) else { return false }
        rest = rest.dropFirst(7).drop { ASCIIClass.partition.contains($0) }
        guard rest.starts(with: ":iam::".utf8) else { return false }
        rest = rest.dropFirst(6)
        if allowingAWSAccount, rest.starts(with: "aws:".utf8) {
            rest = rest.dropFirst(3)
        } else {
            guard ASCIIClass.digits.matchesWhole(rest.prefix(12), count: 12...12) else { return false }
            rest = rest.dropFirst(12)
        }
        guard rest.first == UInt8(ascii: ":"), rest.dropFirst().starts(with: resource.utf8) else { return false }
        return ASCIIClass.arnResource.matchesWhole(rest.dropFirst(1 + resource.utf8.count), count: 1...512)
    }

    /// `true` or `false`, in any case, as the AWS SDKs read booleans.
    static func parseBoolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// `127.x.y.z:PORT` or `[::1]:PORT`. Only loopback literals: a name could resolve to an
    /// address other users or machines reach.
    static func parseListen(_ value: String) -> Result<(host: String, port: Int), ValueProblem> {
        let host: Substring
        let portText: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]"), value[value.index(after: close)...].hasPrefix(":") else {
                return .failure(ValueProblem("expected '[::1]:PORT'"))
            }
            host = value[value.index(after: value.startIndex)..<close]
            portText = value[value.index(close, offsetBy: 2)...]
            guard host == "::1" else { return .failure(ValueProblem("only the IPv6 loopback address [::1] is allowed")) }
        } else {
            guard let colon = value.lastIndex(of: ":") else {
                return .failure(ValueProblem("expected HOST:PORT, e.g. 127.0.0.1:9911"))
            }
            host = value[..<colon]
            portText = value[value.index(after: colon)...]
            if host.contains(":") { return .failure(ValueProblem("write an IPv6 address in brackets: [::1]:PORT")) }
            guard isIPv4Loopback(host) else {
                return .failure(
                    ValueProblem("\(quoted(String(host))) is not a loopback address; credd serves credentials on 127.0.0.0/8 or [::1] only"))
            }
        }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port) else {
            return .failure(ValueProblem("\(quoted(String(portText))) is not a port number (1-65535)"))
        }
        return .success((String(host), port))
    }

    static func isIPv4Loopback(_ host: Substring) -> Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        let values = octets.compactMap { octet -> Int? in
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(octet).flatMap { (0...255).contains($0) ? $0 : nil }
        }
        return values.count == 4 && values[0] == 127
    }

    /// An STS endpoint URL: `https://…`, or `http://` to a loopback host only, because the
    /// response carries fresh credentials.
    static func parseEndpointURL(_ value: String) -> Result<URL, ValueProblem> {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else {
            return .failure(ValueProblem("\(quoted(value)) is not a URL such as https://sts.eu-west-1.amazonaws.com"))
        }
        switch scheme {
        case "https":
            return .success(url)
        case "http":
            let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            guard bare == "localhost" || bare == "::1" || isIPv4Loopback(Substring(bare)) else {
                return .failure(ValueProblem("plain http is allowed only to a loopback host (STS responses carry credentials); use https"))
            }
            return .success(url)
        default:
            return .failure(ValueProblem("\(quoted(value)) must start with https://"))
        }
    }

    /// A value as an error message quotes it: a short, redacted prefix in quotes, so a secret
    /// pasted into the wrong key is not echoed and a huge value does not become a huge message.
    static func quoted(_ value: String) -> String {
        "'\(Redaction.valuePrefix(value))'"
    }

    /// A hint for values that look like they carry an inline comment, which botocore (and so
    /// credd) keeps as part of the value.
    static func inlineCommentHint(_ value: String) -> String {
        let looksCommented = [" ;", " #", "\t;", "\t#"].contains { value.contains($0) }
        return looksCommented ? " (inline comments are part of the value in AWS config files; put the comment on its own line)" : ""
    }

    /// The closest of `candidates` to `word`, if it is a likely typo.
    static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= max(1, min(3, word.count / 3)) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, charA) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, charB) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (charA == charB ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A set of ASCII characters: one character class of the patterns above.
struct ASCIIClass: Sendable {
    private let low: UInt64
    private let high: UInt64

    /// The characters of `members`, where `a-z` stands for a range (a `-` first or last is itself).
    init(_ members: String) {
        let bytes = Array(members.utf8)
        var low: UInt64 = 0
        var high: UInt64 = 0
        var index = 0
        while index < bytes.count {
            let isRange = index + 2 < bytes.count && bytes[index + 1] == UInt8(ascii: "-")
            let last = isRange ? bytes[index + 2] : bytes[index]
            precondition(bytes[index] <= last && last < 128, "ASCIIClass holds ASCII characters and ascending ranges")
            for byte in bytes[index]...last {
                if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
            }
            index += isRange ? 3 : 1
        }
        self.low = low
        self.high = high
    }

    func contains(_ byte: UInt8) -> Bool {
        byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte - 64)) != 0
    }

    /// Whether `bytes` is `count` characters of this class and nothing else.
    func matchesWhole(_ bytes: Substring.UTF8View, count: ClosedRange<Int>) -> Bool {
        count.contains(bytes.count) && bytes.allSatisfy(contains)
    }

    static let digits = ASCIIClass("0-9")
    static let lowercase = ASCIIClass("a-z")
    static let lowercaseAlphanumeric = ASCIIClass("a-z0-9")
    static let alphanumeric = ASCIIClass("A-Za-z0-9")
    static let partition = ASCIIClass("a-z-")
    static let arnResource = ASCIIClass("A-Za-z0-9_+=,.@/-")
    static let sessionName = ASCIIClass("A-Za-z0-9_+=,.@-")
    static let externalId = ASCIIClass("A-Za-z0-9_+=,.@:/-")
    static let profileName = ASCIIClass("A-Za-z0-9_/.%@-")
    /// Characters a shell word needs no quotes for.
    static let shellPlain = ASCIIClass("A-Za-z0-9_/.,:@%+=-")
}

/// Why a value was rejected, in words for the user.
struct ValueProblem: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
