import Testing

@testable import CreddEndpoint

struct RequestPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "127.0.0.1:9911", "127.1.2.3:80", "localhost", "LOCALHOST:9911", "169.254.169.254",
        "169.254.169.254:80", "[::1]", "[::1]:9911", "[0:0:0:0:0:0:0:1]:1", "[::ffff:127.0.0.1]:9911",
    ])
    func loopbackHostsAreAllowed(host: String) {
        #expect(RequestPolicy.isAllowedHost(host))
    }

    @Test(arguments: [
        "", "attacker.example", "attacker.example:9911", "localhost.attacker.example", "127.0.0.1.nip.io",
        "10.0.0.1", "0.0.0.0", "128.0.0.1", "127.1", "[::2]", "[::1", "::1", "[::1]x", "[::1]:", "127.0.0.1:",
        "127.0.0.1:123456", "127.0.0.1:80:80", "127.0.0.1:-1", "169.254.170.2", " 127.0.0.1", "127.0.0.1 ",
        "localhost:９９", "[::ffff:10.0.0.1]",
    ])
    func otherHostsAreRefused(host: String) {
        #expect(!RequestPolicy.isAllowedHost(host))
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
