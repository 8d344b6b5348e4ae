/// One HTTP/1.x response as it crossed the wire.
struct WireResponse {
    let version: String
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    /// Head and body, for searching the whole response.
    let raw: [UInt8]

    func values(of name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    var closesConnection: Bool { values(of: "Connection").contains { $0.lowercased() == "close" } }
}

/// Splits what the server wrote into responses, failing on anything that is not a well-formed
/// HTTP/1.x response with exactly one `Content-Length` that frames its body.
/// `bodyless(rest)` says, from the bytes after a response's head, whether it answers a HEAD
/// request (no body follows).
func splitResponses(_ bytes: [UInt8], bodyless: (ArraySlice<UInt8>) -> Bool) -> Result<[WireResponse], ResponseStreamError> {
    var responses: [WireResponse] = []
    var start = 0
    let separator = Array("\r\n\r\n".utf8)
    while start < bytes.count {
        guard let headEnd = firstIndex(of: separator, in: bytes, from: start) else { return .failure(.unterminatedHead(response: responses.count)) }
        guard let head = String(validating: bytes[start..<headEnd], as: UTF8.self) else { return .failure(.notUTF8(response: responses.count)) }
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusParts.count == 3, let status = Int(statusParts[1]), statusParts[1].count == 3, (100...599).contains(status) else {
            return .failure(.badStatusLine(response: responses.count))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), !line[..<colon].isEmpty, !line[..<colon].contains(" ") else {
                return .failure(.badHeaderLine(response: responses.count))
            }
            headers.append((name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingPrefix(" ").description))
        }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }
        guard lengths.count == 1, let length = Int(lengths[0].value), length >= 0 else {
            return .failure(.badContentLength(response: responses.count))
        }
        let bodyStart = headEnd + separator.count
        let bodyEnd = bodyStart + (bodyless(bytes[bodyStart...]) ? 0 : length)
        guard bodyEnd <= bytes.count else { return .failure(.truncatedBody(response: responses.count)) }
        responses.append(
            WireResponse(
                version: String(statusParts[0]), status: status, headers: headers,
                body: Array(bytes[bodyStart..<bodyEnd]), raw: Array(bytes[start..<bodyEnd])
            ))
        start = bodyEnd
    }
    return .success(responses)
}

enum ResponseStreamError: Error {
    case unterminatedHead(response: Int)
    case notUTF8(response: Int)
    case badStatusLine(response: Int)
    case badHeaderLine(response: Int)
    case badContentLength(response: Int)
    case truncatedBody(response: Int)
}

/// Where `needle` first occurs in `haystack` at or after `start`.
func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    return (start...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}
