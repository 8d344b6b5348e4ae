import Foundation

/// A deliberately dumb HTTP/1.1 client over blocking POSIX sockets, for requests no real client
/// would send (oversize headers, hostile hosts, idle sockets). Call it from `onDedicatedThread`.
struct RawHTTPResponse: Sendable {
    /// As the status line gives it, e.g. `HTTP/1.1`.
    let version: String
    let status: Int
    let headers: [(name: String, value: String)]
    let body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

enum RawHTTPClient {
    /// A connected socket to 127.0.0.1:port (or [::1]:port) with a receive (and connect) timeout, or -1.
    static func connect(port: Int, ipv6: Bool = false, receiveTimeoutSeconds: Int = 20) -> Int32 {
        let descriptor = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            close(descriptor)
            return -1
        }
        return descriptor
    }

    @discardableResult
    static func send(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if result <= 0 { return false }
            sent += result
        }
        return true
    }

    /// Reads one response (head plus Content-Length body); `nil` on timeout, close or garbage.
    static func readResponse(_ descriptor: Int32) -> RawHTTPResponse? {
        var buffer = [UInt8]()
        return nextResponse(descriptor, buffer: &buffer)
    }

    /// Reads `count` responses from one connection. Pipelined responses can arrive in one
    /// segment, so bytes past a response are kept for the next one.
    static func readResponses(_ descriptor: Int32, count: Int) -> [RawHTTPResponse?] {
        var buffer = [UInt8]()
        return (0..<count).map { _ in nextResponse(descriptor, buffer: &buffer) }
    }

    /// Parses the response at the start of `buffer`, receiving more as needed, and removes it.
    private static func nextResponse(_ descriptor: Int32, buffer: inout [UInt8]) -> RawHTTPResponse? {
        var chunk = [UInt8](repeating: 0, count: 16384)
        func fill() -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        func findHeadEnd() -> Int? {
            guard buffer.count >= 4 else { return nil }
            return (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == separator }
        }
        var headEnd = findHeadEnd()
        while headEnd == nil {
            guard fill() else { return nil }
            headEnd = findHeadEnd()
        }
        guard let headEnd else { return nil }
        let headText = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while buffer.count < headEnd + 4 + length {
            guard fill() else { return nil }
        }
        let body = String(decoding: buffer[(headEnd + 4)..<(headEnd + 4 + length)], as: UTF8.self)
        buffer.removeFirst(headEnd + 4 + length)
        return RawHTTPResponse(version: String(statusLine[0]), status: status, headers: headers, body: body)
    }

    /// Whether the peer closed the connection (EOF) before the receive timeout.
    static func waitForClose(_ descriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(descriptor, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// One request on a fresh connection.
    static func exchange(port: Int, _ request: String) -> RawHTTPResponse? {
        exchange(port: port, Array(request.utf8))
    }

    static func exchange(port: Int, ipv6: Bool = false, _ request: [UInt8]) -> RawHTTPResponse? {
        let descriptor = connect(port: port, ipv6: ipv6)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard send(descriptor, request) else { return nil }
        return readResponse(descriptor)
    }

    /// A GET with the given extra header lines, Host 127.0.0.1 unless overridden.
    static func get(_ path: String, port: Int, host: String? = nil, headers: [String] = []) -> String {
        var lines = ["GET \(path) HTTP/1.1", "Host: \(host ?? "127.0.0.1:\(port)")"]
        lines += headers
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }
}

extension RawHTTPClient {
    /// Reads a response to HEAD: the head only, whatever Content-Length says.
    static func readHeadOnly(_ descriptor: Int32) -> RawHTTPResponse? {
        var buffer = [UInt8]()
        var byte: UInt8 = 0
        while !buffer.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { return nil }
            buffer.append(byte)
        }
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        return RawHTTPResponse(version: String(statusLine[0]), status: status, headers: [], body: "")
    }
}
