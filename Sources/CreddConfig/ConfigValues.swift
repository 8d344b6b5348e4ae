import Foundation

/// Validation of individual config values, following what AWS accepts. Each check returns the
/// parsed value or a message saying what a valid value looks like.
enum ConfigValues {
    /// `arn:aws[-partition]:iam::123456789012:role/[path/]Name`.
    static func isRoleARN(_ value: String) -> Bool {
        value.wholeMatch(of: /arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9_+=,.@\/-]{1,512}/) != nil
    }

    /// A virtual MFA device ARN, or a hardware token's serial number (e.g. `GAHT12345678`).
    static func isMFASerial(_ value: String) -> Bool {
        value.wholeMatch(of: /arn:aws[a-z-]*:iam::[0-9]{12}:mfa\/[A-Za-z0-9_+=,.@\/-]{1,512}/) != nil
            || value.wholeMatch(of: /[A-Za-z0-9]{9,256}/) != nil
    }

    /// STS's `RoleSessionName` pattern, `[\w+=,.@-]{2,64}`.
    static func isRoleSessionName(_ value: String) -> Bool {
        value.wholeMatch(of: /[A-Za-z0-9_+=,.@-]{2,64}/) != nil
    }

    /// STS's `ExternalId`: 2 to 1224 characters of `[\w+=,.@:\/-]`.
    static func isExternalId(_ value: String) -> Bool {
        value.wholeMatch(of: /[A-Za-z0-9_+=,.@:\/-]{2,1224}/) != nil
    }

    /// A region name such as `eu-west-1`, `us-gov-west-1` or `cn-north-1`.
    static func isRegion(_ value: String) -> Bool {
        value.wholeMatch(of: /[a-z]{2,}(-[a-z0-9]+)+/) != nil
    }

    /// The characters the AWS SDKs accept in profile names (Java's rule, the strictest).
    static func isProfileName(_ value: String) -> Bool {
        value.wholeMatch(of: /[A-Za-z0-9_\/.%@-]+/) != nil
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
                return .failure(ValueProblem("'\(host)' is not a loopback address; credd serves credentials on 127.0.0.0/8 or [::1] only"))
            }
        }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port) else {
            return .failure(ValueProblem("'\(portText)' is not a port number (1-65535)"))
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
            return .failure(ValueProblem("'\(value)' is not a URL such as https://sts.eu-west-1.amazonaws.com"))
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
            return .failure(ValueProblem("'\(value)' must start with https://"))
        }
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

/// Why a value was rejected, in words for the user.
struct ValueProblem: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
