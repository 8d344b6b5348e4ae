import NIOHTTP1

/// Parses one request head, as `RequestHeadFraming` cut it out of a connection's bytes, into NIO's
/// request type. Strict where RFC 9112 lets a server choose, because every client credd serves is
/// an SDK or a tool that sends plain HTTP/1.1 heads:
/// - lines end in CRLF or a bare LF; a CR anywhere else is refused;
/// - the request line is `METHOD SP TARGET SP HTTP/1.1` (or `HTTP/1.0`), with single spaces;
/// - a field is `name: value`; whitespace before the colon and folded lines are refused;
/// - field values may hold visible ASCII, spaces, tabs and non-ASCII bytes, no other control bytes.
/// The endpoint refuses bodies, so a head is a whole request.
enum RequestHeadParser {
    /// Why a head was refused, in words that quote none of its bytes (they may hold a token).
    struct Malformed: Error {
        let reason: String
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<HTTPRequestHead, Malformed> {
        var lines = Lines(bytes: bytes)
        do throws(Malformed) {
            var requestLine = try lines.next()
            // Empty lines before a request line are allowed (RFC 9112 §2.2).
            while let line = requestLine, line.isEmpty { requestLine = try lines.next() }
            guard let requestLine else { return .failure(Malformed(reason: "no request line")) }
            let (method, target, version) = try parseRequestLine(requestLine)
            var fields: [(String, String)] = []
            var framing = BodyFraming()
            while let line = try lines.next() {
                if line.isEmpty {
                    return .success(HTTPRequestHead(version: version, method: method, uri: target, headers: HTTPHeaders(fields)))
                }
                let field = try parseField(line)
                try framing.note(field)
                fields.append(field)
            }
            return .failure(Malformed(reason: "the head does not end in an empty line"))
        } catch {
            return .failure(error)
        }
    }

    private static func parseRequestLine(_ line: Slice<UnsafeRawBufferPointer>) throws(Malformed) -> (HTTPMethod, String, HTTPVersion) {
        guard let methodEnd = line.firstIndex(of: UInt8(ascii: " ")) else { throw Malformed(reason: "the request line has no target") }
        let method = line[..<methodEnd]
        let rest = line[(methodEnd + 1)...]
        guard let targetEnd = rest.firstIndex(of: UInt8(ascii: " ")) else { throw Malformed(reason: "the request line has no version") }
        let target = rest[..<targetEnd]
        let version = rest[(targetEnd + 1)...]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw Malformed(reason: "the method is not a token") }
        // Visible ASCII only: targets are percent-encoded.
        guard !target.isEmpty, target.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw Malformed(reason: "the request target is empty or not visible ASCII") }
        let httpVersion: HTTPVersion
        if version.elementsEqual("HTTP/1.1".utf8) {
            httpVersion = .http1_1
        } else if version.elementsEqual("HTTP/1.0".utf8) {
            httpVersion = .http1_0
        } else {
            throw Malformed(reason: "the version is not HTTP/1.1 or HTTP/1.0")
        }
        return (HTTPMethod(rawValue: String(decoding: method, as: UTF8.self)), String(decoding: target, as: UTF8.self), httpVersion)
    }

    private static func parseField(_ line: Slice<UnsafeRawBufferPointer>) throws(Malformed) -> (String, String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw Malformed(reason: "a header line has no colon") }
        let name = line[..<colon]
        // A leading space or tab (a folded line) or one before the colon is not a token byte.
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw Malformed(reason: "a header name is empty or not a token") }
        var value = line[(colon + 1)...]
        while let first = value.first, isWhitespace(first) { value.removeFirst() }
        while let last = value.last, isWhitespace(last) { value.removeLast() }
        guard value.allSatisfy(isFieldValueByte) else { throw Malformed(reason: "a header value holds a control byte") }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// The fields that would frame a body, refused where they disagree or cannot be read, as
    /// RFC 9112 §6.3 asks: the router then refuses any body they announce (413).
    private struct BodyFraming {
        var hasContentLength = false
        var hasTransferEncoding = false

        mutating func note(_ field: (name: String, value: String)) throws(Malformed) {
            // Most fields have neither length: skip the case-insensitive comparison for them.
            let length = field.name.utf8.count
            if length == 14, field.name.lowercased() == "content-length" {
                guard !hasContentLength else { throw Malformed(reason: "Content-Length appears more than once") }
                guard !field.value.isEmpty, field.value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                    throw Malformed(reason: "Content-Length is not a number")
                }
                hasContentLength = true
            } else if length == 17, field.name.lowercased() == "transfer-encoding" {
                hasTransferEncoding = true
            }
            guard !(hasContentLength && hasTransferEncoding) else { throw Malformed(reason: "both Content-Length and Transfer-Encoding are set") }
        }
    }

    /// RFC 9110's `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// Visible ASCII, space, tab and `obs-text` (bytes from 0x80), as RFC 9110's `field-value`.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (0x20...0x7E).contains(byte) || byte >= 0x80
    }

    /// A head's lines without their CRLF or LF; a CR elsewhere ends the parse.
    private struct Lines {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func next() throws(Malformed) -> Slice<UnsafeRawBufferPointer>? {
            guard position < bytes.count else { return nil }
            let rest = bytes[position...]
            // Framing cuts a head short only at a byte no head may hold there.
            guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else {
                throw Malformed(reason: "a line breaks off at a control byte or a non-ASCII byte outside a field value")
            }
            position = newline + 1
            var line = bytes[rest.startIndex..<newline]
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard !line.contains(UInt8(ascii: "\r")) else { throw Malformed(reason: "a line holds a bare CR") }
            return line
        }
    }
}
