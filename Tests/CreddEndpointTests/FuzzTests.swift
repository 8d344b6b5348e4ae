import CreddCore
import CreddTestSupport
import Foundation
import InMemoryLogging
import NIOHTTP1
import Testing

@testable import CreddEndpoint

/// Random and malformed requests: no crash, and secrets only where an authorised request asked for them.
struct FuzzTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    let clock = ManualWallClock(Self.start)
    let source = FakeCredentialSource()
    let good = FakeCredentials.make(generation: 1, expiration: Self.start.addingTimeInterval(3600))
    let expired = FakeCredentials.make(generation: 2, expiration: Self.start.addingTimeInterval(-1))

    init() {
        source.set(.available(good, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: Self.start), for: "dev")
        source.set(.available(expired, roleArn: nil, lastUpdated: Self.start), for: "old")
        source.set(.unavailable(reason: "needs MFA; run `credd login mfa`"), for: "mfa")
    }

    static let methods: [HTTPMethod] = [.GET, .GET, .GET, .PUT, .PUT, .HEAD, .POST, .OPTIONS, .DELETE, .RAW(value: "BREW"), .CONNECT]
    static let paths = [
        "/latest/api/token", "/latest/meta-data/iam/security-credentials/", "/latest/meta-data/iam/security-credentials/dev",
        "/latest/meta-data/iam/security-credentials/old", "/latest/meta-data/iam/security-credentials/mfa",
        "/latest/meta-data/iam/security-credentials-extended/dev", "/v1/credentials/dev", "/v1/credentials/old",
        "/v1/credentials/mfa", "/v1/credentials/nosuch", "/v1/credentials/%64ev", "/v1/credentials/dev/", "/v1/credentials/../credentials/dev",
        "/2021-03-23/api/token", "/", "", "*", "http://127.0.0.1/v1/credentials/dev", "/latest/meta-data/iam/security-credentials/dev?x=1",
        "/v1/credentials/dev#frag", "/v1/credentials/%", "/v1/credentials/%ZZ", "/v1/credentials/%00",
    ]
    static let hosts = [
        "127.0.0.1", "127.0.0.1:9911", "localhost", "[::1]:9911", "169.254.169.254", "attacker.example", "", "127.0.0.1:99999", "[::1",
        "localhost.evil",
    ]

    func randomString(_ rng: inout SplitMix64, maxLength: Int) -> String {
        let length = Int.random(in: 0...maxLength, using: &rng)
        let scalars = (0..<length).map { _ -> Character in
            let choice = Int.random(in: 0..<10, using: &rng)
            switch choice {
            case 0: return Character(Unicode.Scalar(UInt8.random(in: 0...127, using: &rng)))
            case 1: return Character(Unicode.Scalar(UInt32.random(in: 0xA0...0x2FFF, using: &rng)) ?? "?")
            default: return Character(Unicode.Scalar(UInt8.random(in: 0x21...0x7E, using: &rng)))
            }
        }
        return String(scalars)
    }

    func randomHead(_ rng: inout SplitMix64, imdsToken: String) -> HTTPRequestHead {
        // A third of the requests start well-formed and authorised, so random additions hit the served path too.
        if Int.random(in: 0..<3, using: &rng) == 0 {
            let container = Bool.random(using: &rng)
            var headers = HTTPHeaders([("Host", ["127.0.0.1:9911", "localhost", "[::1]:9911"].randomElement(using: &rng) ?? "localhost")])
            headers.add(
                name: container ? "Authorization" : EndpointRouter.tokenHeader, value: container ? TestEndpoint.containerToken.revealed : imdsToken)
            let profile = ["dev", "dev", "old", "mfa", "nosuch"].randomElement(using: &rng) ?? "dev"
            let path = (container ? EndpointRouter.containerPrefix : EndpointRouter.roleListPath) + profile
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            if Int.random(in: 0..<2, using: &rng) == 0 {
                let extra = randomHead(&rng, imdsToken: imdsToken)
                if let (name, value) = extra.headers.randomElement(using: &rng) { head.headers.add(name: name, value: value) }
            }
            return head
        }
        let method = Self.methods.randomElement(using: &rng) ?? .GET
        var uri = Self.paths.randomElement(using: &rng) ?? "/"
        if Int.random(in: 0..<4, using: &rng) == 0 { uri += randomString(&rng, maxLength: 40) }
        if Int.random(in: 0..<20, using: &rng) == 0 { uri = randomString(&rng, maxLength: 200) }
        var headers = HTTPHeaders()
        let hostCount = [0, 1, 1, 1, 1, 1, 2].randomElement(using: &rng) ?? 1
        for _ in 0..<hostCount { headers.add(name: "Host", value: Self.hosts.randomElement(using: &rng) ?? "") }
        let candidates: [(String, String)] = [
            ("Authorization", TestEndpoint.containerToken.revealed),
            ("Authorization", TestEndpoint.containerToken.revealed),
            ("Authorization", randomString(&rng, maxLength: 60)),
            ("Authorization", String(TestEndpoint.containerToken.revealed.dropLast())),
            (EndpointRouter.tokenHeader, imdsToken),
            (EndpointRouter.tokenHeader, imdsToken),
            (EndpointRouter.tokenHeader, randomString(&rng, maxLength: 60)),
            (EndpointRouter.tokenTTLHeader, String(Int.random(in: -5...30000, using: &rng))),
            (EndpointRouter.tokenTTLHeader, randomString(&rng, maxLength: 8)),
            ("X-Forwarded-For", "10.0.0.1"), ("Forwarded", "for=1.2.3.4"), ("Via", "1.1 proxy"), ("X-Real-IP", "10.0.0.1"),
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", ["cross-site", "same-site", "same-origin", "none"].randomElement(using: &rng) ?? "none"),
            ("Content-Length", String(Int.random(in: 0...3, using: &rng))), ("Transfer-Encoding", "chunked"),
            // Names as the HTTP parser would deliver them: visible ASCII only.
            (randomString(&rng, maxLength: 20).filter { $0.isASCII && !$0.isWhitespace && $0 != ":" }, randomString(&rng, maxLength: 80)),
        ]
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            if let (name, value) = candidates.randomElement(using: &rng) { headers.add(name: name, value: value) }
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    /// The test's own statement of when credentials may be served, independent of the router.
    func mayServeCredentials(_ head: HTTPRequestHead, imdsToken: String) -> Bool {
        guard head.method == .GET || head.method == .HEAD else { return false }
        let hosts = head.headers["Host"]
        guard hosts.count == 1, RequestPolicy.isAllowedHost(hosts[0]) else { return false }
        guard head.headers["Origin"].isEmpty, head.headers["X-Forwarded-For"].isEmpty, head.headers["Forwarded"].isEmpty,
            head.headers["Via"].isEmpty, head.headers["X-Real-IP"].isEmpty,
            !head.headers["Sec-Fetch-Site"].contains(where: { $0 == "cross-site" || $0 == "same-site" }),
            !EndpointRouter.declaresBody(head)
        else { return false }
        if head.uri.hasPrefix("/v1/credentials/") {
            return head.headers["Authorization"] == [TestEndpoint.containerToken.revealed]
        }
        if head.uri.hasPrefix("/latest/") {
            return head.headers[EndpointRouter.tokenHeader] == [imdsToken]
        }
        return false
    }

    @Test func oneHundredThousandRandomRequestsThroughTheCore() async throws {
        let router = EndpointRouter(
            imdsProfile: "dev", containerToken: TestEndpoint.containerToken,
            tokens: IMDSTokenStore(capacity: 100_000, wallClock: clock), source: source, wallClock: clock
        )
        let tokenHead = HTTPHeaders([("Host", "127.0.0.1"), (EndpointRouter.tokenTTLHeader, "21600")])
        let imdsToken = router.respond(to: HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/latest/api/token", headers: tokenHead)).body
        let secrets = [good.secretAccessKey.revealed, try #require(good.sessionToken).revealed]
        let neverServed = [expired.secretAccessKey.revealed, try #require(expired.sessionToken).revealed, TestEndpoint.containerToken.revealed]
        var rng = SplitMix64(seed: 0xC0FFEE)
        var statuses: [UInt: Int] = [:]
        var served = 0
        for iteration in 0..<100_000 {
            let head = randomHead(&rng, imdsToken: imdsToken)
            let response = router.respond(to: head)
            statuses[response.status.code, default: 0] += 1
            let carriesSecret = secrets.contains { response.body.contains($0) }
            if carriesSecret {
                served += 1
                #expect(mayServeCredentials(head, imdsToken: imdsToken), "iteration \(iteration): \(head.method) \(head.uri)")
                #expect(response.status == .ok)
            }
            for secret in neverServed where response.body.contains(secret) {
                Issue.record("iteration \(iteration) leaked a secret that must never be served: \(head.method) \(head.uri)")
            }
            if response.route == .imdsToken && response.status == .ok { continue }
            #expect(!response.body.contains(imdsToken), "iteration \(iteration)")
            #expect(response.body.contains("Success") == (carriesSecret && response.route == .imdsCredentials), "iteration \(iteration)")
        }
        #expect(served > 1000, "the generator should reach the served path often: \(statuses)")
        #expect(statuses[401, default: 0] > 1000 && statuses[403, default: 0] > 1000 && statuses[404, default: 0] > 100)
    }

    @Test func thousandsOfMalformedRequestsOverRealSockets() async throws {
        let logs = InMemoryLogHandler()
        let credentials = FakeCredentials.make(expiration: Date().addingTimeInterval(3600))
        let liveSource = FakeCredentialSource(["dev": .available(credentials, roleArn: nil, lastUpdated: Date())])
        let secrets = [credentials.secretAccessKey.revealed, try #require(credentials.sessionToken).revealed, TestEndpoint.containerToken.revealed]
        try await TestEndpoint.withRunning(source: liveSource, logHandler: logs) { port in
            let valid = RawHTTPClient.get("/v1/credentials/dev", port: port, headers: ["Authorization: \(TestEndpoint.containerToken.revealed)"])
            let results = await withTaskGroup(of: [(request: [UInt8], response: RawHTTPResponse?)].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        await onDedicatedThread {
                            var rng = SplitMix64(seed: UInt64(worker) &* 7919 &+ 1)
                            return (0..<750).map { _ -> (request: [UInt8], response: RawHTTPResponse?) in
                                var bytes = Array(valid.utf8)
                                switch Int.random(in: 0..<5, using: &rng) {
                                case 0:
                                    bytes =
                                        (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                                        + Array("\r\n\r\n".utf8)
                                case 1:
                                    for _ in 0..<Int.random(in: 1...8, using: &rng) {
                                        bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                                    }
                                case 2:
                                    bytes.insert(
                                        contentsOf: Array("X-Junk: \(String(repeating: "j", count: Int.random(in: 0...9000, using: &rng)))\r\n".utf8),
                                        at: 17)
                                case 3:
                                    bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng))) + Array("\r\n\r\n".utf8)
                                default:
                                    bytes = Array(
                                        "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: \(Int.random(in: -2...30000, using: &rng))\r\n\r\n"
                                            .utf8)
                                }
                                return (request: bytes, response: RawHTTPClient.exchange(port: port, bytes))
                            }
                        }
                    }
                }
                var all: [(request: [UInt8], response: RawHTTPResponse?)] = []
                for await batch in group { all += batch }
                return all
            }
            #expect(results.count == 3000)
            for (request, response) in results {
                guard let response else { continue }
                let carriesSecret = secrets.contains { response.body.contains($0) }
                if carriesSecret {
                    // Only an intact, authorised request may get credentials back.
                    #expect(response.status == 200)
                    #expect(String(decoding: request, as: UTF8.self).contains(TestEndpoint.containerToken.revealed))
                }
                #expect(!response.body.contains(TestEndpoint.containerToken.revealed))
            }
            let stillServing = await onDedicatedThread { RawHTTPClient.exchange(port: port, valid) }
            #expect(stillServing?.status == 200)
        }
        let text = logs.renderedText
        for secret in secrets {
            #expect(!text.contains(secret))
        }
    }
}
