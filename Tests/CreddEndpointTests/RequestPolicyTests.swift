import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

struct RequestPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "127.0.0.1:9911", "127.1.2.3:80", "localhost", "LOCALHOST:9911", "169.254.169.254",
        "169.254.169.254:80", "[::1]", "[::1]:9911", "[0:0:0:0:0:0:0:1]:1", "[::ffff:127.0.0.1]:9911",
        "lOcAlHoSt:9911", "127.0.0.0", "127.255.255.255:65535", "127.0.0.1:0",
    ])
    func loopbackHostsAreAllowed(host: String) {
        #expect(RequestPolicy.isAllowedHost(host))
    }

    @Test(arguments: [
        "", "attacker.example", "attacker.example:9911", "localhost.attacker.example", "127.0.0.1.nip.io",
        "10.0.0.1", "0.0.0.0", "128.0.0.1", "127.1", "[::2]", "[::1", "::1", "[::1]x", "[::1]:", "127.0.0.1:",
        "127.0.0.1:123456", "127.0.0.1:80:80", "127.0.0.1:-1", "169.254.170.2", " 127.0.0.1", "127.0.0.1 ",
        "localhost:９９", "[::ffff:10.0.0.1]", "localhosts", "localhos", "LOCALHOST.", "lOcAlHoSt:", "127.0.0.1:9911:",
        "127.0.0.01", "127.0.0.1\u{0}", "169.254.169.254.", "169.254.169.2540", "[::1]]", "[::1]:123456", "[[::1]", "localhost:1a",
    ])
    func otherHostsAreRefused(host: String) {
        #expect(!RequestPolicy.isAllowedHost(host))
    }

    /// The byte-level IPv4 check against the libc parser it replaced, on edge cases and random dotted strings.
    @Test func ipv4CheckAgreesWithInetPton() {
        func inetPtonLoopback(_ text: String) -> Bool {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return false }
            return withUnsafeBytes(of: address) { $0.first == 127 }
        }
        var cases = [
            "127.0.0.1", "127.255.255.255", "127.0.0.0", "127.00.0.1", "0127.0.0.1", "127.0.0.01", "127.0.0.256", "127.0.0",
            "127.0.0.1.", ".127.0.0.1", "127..0.1", "127.0.0.1 ", "1270.0.0.1", "127.0.0.1000", "", "127", "127.1", "255.0.0.127",
        ]
        var rng = SplitMix64(seed: 127)
        let alphabet = Array("0123456789.....127x")
        for _ in 0..<20_000 {
            cases.append(String((0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "." }))
            cases.append(
                (0..<4).map { _ in ["127", "0", "00", "1", "255", "256", "01", "999"].randomElement(using: &rng) ?? "0" }.joined(separator: "."))
        }
        for text in cases {
            #expect(RequestPolicy.isLoopbackIPv4(text) == inetPtonLoopback(text), "\(text)")
        }
    }

    @Test func browserHeadersAreDetected() {
        #expect(RequestPolicy.looksLikeBrowserRequest(origin: ["https://x.example"], fetchSite: []))
        #expect(RequestPolicy.looksLikeBrowserRequest(origin: [], fetchSite: ["Cross-Site"]))
        #expect(RequestPolicy.looksLikeBrowserRequest(origin: [], fetchSite: ["same-site"]))
        #expect(!RequestPolicy.looksLikeBrowserRequest(origin: [], fetchSite: ["same-origin"]))
        #expect(!RequestPolicy.looksLikeBrowserRequest(origin: [], fetchSite: ["none"]))
        #expect(!RequestPolicy.looksLikeBrowserRequest(origin: [], fetchSite: []))
    }
}
