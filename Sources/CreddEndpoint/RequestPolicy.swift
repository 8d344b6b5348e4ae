import Foundation

/// Checks that keep the endpoint to local, non-browser clients: the `Host` a request names
/// (DNS-rebinding defence) and the headers a browser adds to cross-origin requests.
enum RequestPolicy {
    /// Whether a `Host` header value names this machine: a loopback IP literal (`127.0.0.0/8`,
    /// `[::1]`), `localhost` or the IMDS address `169.254.169.254`, each with an optional port.
    /// Any other name could be an attacker's domain re-pointed at 127.0.0.1.
    static func isAllowedHost(_ value: String) -> Bool {
        let host: Substring
        let port: Substring?
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return false }
            host = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            if rest.isEmpty {
                port = nil
            } else {
                guard rest.first == ":" else { return false }
                port = rest.dropFirst()
            }
            guard isLoopbackIPv6(String(host)) else { return false }
        } else {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return false }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
            let name = host.lowercased()
            guard name == "localhost" || name == "169.254.169.254" || isLoopbackIPv4(name) else { return false }
        }
        if let port {
            guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        }
        return true
    }

    /// Whether the request carries what browsers send with requests a web page makes: an
    /// `Origin`, or `Sec-Fetch-Site` saying it comes from another site.
    static func looksLikeBrowserRequest(origin: [String], fetchSite: [String]) -> Bool {
        if !origin.isEmpty { return true }
        return fetchSite.contains { site in
            let normalized = site.trimmingCharacters(in: .whitespaces).lowercased()
            return normalized == "cross-site" || normalized == "same-site"
        }
    }

    static func isLoopbackIPv4(_ text: String) -> Bool {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return false }
        return withUnsafeBytes(of: address) { $0.first == 127 }
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
