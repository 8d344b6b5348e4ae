import CreddSigV4
import Foundation

/// A raw request file from the test suites, parsed the way the suites mean it.
struct RawRequest {
    var request: SigV4Request

    /// `METHOD TARGET HTTP/1.1`, header lines (indented lines continue the previous
    /// header), an empty line, then the body. The target may contain spaces (`get-space`).
    init(parsing text: String) throws {
        let normalized = text.replacingOccurrences(of: "\r", with: "")
        let head: Substring
        let body: Substring
        if let split = normalized.range(of: "\n\n") {
            head = normalized[..<split.lowerBound]
            body = normalized[split.upperBound...]
        } else {
            head = normalized[...]
            body = ""
        }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { throw FixtureError.malformed("empty request") }
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "),
            let versionStart = requestLine.range(of: " HTTP/", options: .backwards)
        else { throw FixtureError.malformed("request line \(requestLine)") }
        let method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<versionStart.lowerBound]

        var headers: [SigV4Request.Header] = []
        for line in lines {
            if line.first == " " || line.first == "\t", var last = headers.popLast() {
                last.value += "\n" + line
                headers.append(last)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append(.init(name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            } else if !line.isEmpty {
                throw FixtureError.malformed("header line \(line)")
            }
        }

        let pathPart: Substring
        var queryItems: [SigV4Request.QueryItem] = []
        if let question = target.firstIndex(of: "?") {
            pathPart = target[..<question]
            for pair in target[target.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                queryItems.append(.init(name: name, value: value))
            }
        } else {
            pathPart = target
        }
        request = SigV4Request(
            method: method,
            path: String(pathPart).removingPercentEncoding ?? String(pathPart),
            queryItems: queryItems,
            headers: headers,
            body: Array(body.utf8)
        )
    }
}

enum FixtureError: Error {
    case malformed(String)
    case missing(String)
}

/// Locating and reading the copied suites in the test bundle.
enum Fixtures {
    static var root: URL? { Bundle.module.url(forResource: "Fixtures", withExtension: nil) }

    static func read(_ relativePath: String) throws -> String {
        guard let root else { throw FixtureError.missing("Fixtures directory") }
        let data = try Data(contentsOf: root.appendingPathComponent(relativePath))
        guard let text = String(data: data, encoding: .utf8) else { throw FixtureError.malformed(relativePath) }
        return text.replacingOccurrences(of: "\r", with: "")
    }

    /// Case directories (relative to `suite`) holding a file that ends with `marker`.
    static func caseDirectories(suite: String, containing marker: (String) -> Bool) -> [String] {
        guard let root, let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent(suite).path)
        else { return [] }
        var found: Set<String> = []
        while let item = enumerator.nextObject() as? String {
            let url = URL(fileURLWithPath: item)
            if marker(url.lastPathComponent) {
                found.insert(url.deletingLastPathComponent().relativePath)
            }
        }
        return found.sorted()
    }
}

extension SigV4Request {
    /// The values of every header called `name` (case-insensitive), in order.
    func headerValues(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }
}
