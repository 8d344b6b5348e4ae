import NIOHTTP1
import Testing

@testable import CreddEndpoint

struct RequestHeadParserTests {
    private func parse(_ text: String) -> Result<HTTPRequestHead, RequestHeadParser.Malformed> {
        parse(Array(text.utf8))
    }

    private func parse(_ bytes: [UInt8]) -> Result<HTTPRequestHead, RequestHeadParser.Malformed> {
        bytes.withUnsafeBytes(RequestHeadParser.parse)
    }

    @Test func parsesAnSDKRequest() throws {
        let head = try parse("GET /v1/credentials/dev HTTP/1.1\r\nHost: 127.0.0.1:9911\r\nAuthorization: abc\r\nUser-Agent: Boto3/1.34\r\n\r\n").get()
        #expect(head.method == .GET)
        #expect(head.uri == "/v1/credentials/dev")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == ["127.0.0.1:9911"])
        #expect(head.headers["Authorization"] == ["abc"])
        #expect(head.headers.count == 3)
        #expect(head.isKeepAlive)
    }

    @Test func acceptsBareLineFeedsLeadingEmptyLinesAndHTTP10() throws {
        let head = try parse("\r\n\nPUT /latest/api/token HTTP/1.0\nHost: x\n\n").get()
        #expect(head.method == .PUT)
        #expect(head.version == .http1_0)
        #expect(!head.isKeepAlive)
        #expect(head.headers["Host"] == ["x"])
    }

    @Test func trimsOptionalWhitespaceAroundValuesAndKeepsItInside() throws {
        let head = try parse("GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a b \t\r\nX-Empty:\r\nX-Obs: caf\u{E9}\r\n\r\n").get()
        #expect(head.headers["Host"] == ["x"])
        #expect(head.headers["X-A"] == ["a b"])
        #expect(head.headers["X-Empty"] == [""])
        #expect(head.headers["X-Obs"] == ["caf\u{E9}"])
    }

    @Test func keepsRepeatedFieldsAndUnknownMethods() throws {
        let head = try parse("BREW / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n").get()
        #expect(head.method == .RAW(value: "BREW"))
        #expect(head.headers["Host"] == ["a", "b"])
        #expect(!head.isKeepAlive)
    }

    @Test(arguments: [
        ("", "no request line"),
        ("\r\n\r\n", "no request line"),
        ("GET / HTTP/1.1\r\nHost: x\r\n", "does not end in an empty line"),
        ("GET / HTTP/1.1", "breaks off"),
        ("GET /\u{0}", "breaks off"),
        ("GET\r\n\r\n", "no target"),
        ("GET /\r\n\r\n", "no version"),
        ("GET / HTTP/2.0\r\n\r\n", "version"),
        ("GET / HTTP/1.1 \r\n\r\n", "version"),
        ("GET / http/1.1\r\n\r\n", "version"),
        ("GET  / HTTP/1.1\r\n\r\n", "target"),
        (" GET / HTTP/1.1\r\n\r\n", "method"),
        ("G(T / HTTP/1.1\r\n\r\n", "method"),
        ("GET /a b HTTP/1.1\r\n\r\n", "version"),
        ("GET /\u{7F} HTTP/1.1\r\n\r\n", "target"),
        ("GET /caf\u{E9} HTTP/1.1\r\n\r\n", "target"),
        ("GET / HTTP/1.1\r\nHost x\r\n\r\n", "no colon"),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "header name"),
        ("GET / HTTP/1.1\r\n: x\r\n\r\n", "header name"),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "no colon"),
        ("GET / HTTP/1.1\r\nHost: x\r\n\tX-A: folded\r\n\r\n", "header name"),
        ("GET / HTTP/1.1\r\nHost: x\u{0}y\r\n\r\n", "control byte"),
        ("GET / HTTP/1.1\r\nHost: x\u{1B}y\r\n\r\n", "control byte"),
        ("GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", "bare CR"),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", "bare CR"),
        ("GET / HTTP/1.1\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n", "more than once"),
        ("GET / HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", "both"),
        ("GET / HTTP/1.1\r\nTRANSFER-ENCODING: chunked\r\nContent-Length: 3\r\n\r\n", "both"),
        ("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "not a number"),
        ("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", "not a number"),
    ])
    func refusesMalformedHeads(text: String, reason: String) {
        switch parse(text) {
        case .success(let head):
            Issue.record("parsed \(text.debugDescription) as \(head)")
        case .failure(let malformed):
            #expect(malformed.reason.contains(reason), "\(text.debugDescription): \(malformed.reason)")
        }
    }

    @Test func aBodyTheHeadAnnouncesOnceIsLeftToTheRouter() throws {
        let head = try parse("PUT /latest/api/token HTTP/1.1\r\nContent-Length: 5\r\n\r\n").get()
        #expect(EndpointRouter.declaresBody(head))
        let chunked = try parse("PUT /latest/api/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").get()
        #expect(EndpointRouter.declaresBody(chunked))
    }

    @Test func headerValuesMayHoldBytesThatAreNotUTF8() throws {
        let bytes = Array("GET / HTTP/1.1\r\nX-A: ".utf8) + [0xFF, 0xFE] + Array("\r\n\r\n".utf8)
        let head = try parse(bytes).get()
        #expect(head.headers["X-A"].count == 1)
    }

    @Test func reasonsQuoteNothingFromTheRequest() {
        let token = "tok3n-SECRETVALUE"
        let heads = [
            "GET / HTTP/1.1\r\nAuthorization: \(token)\u{0}\r\n\r\n",
            "GET /\(token) HTTP/9\r\n\r\n",
            "\(token)( / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n\(token) x\r\n\r\n",
        ]
        for head in heads {
            guard case .failure(let malformed) = parse(head) else {
                Issue.record("\(head.debugDescription) should be refused")
                continue
            }
            #expect(!malformed.reason.contains("SECRET"))
        }
    }
}
