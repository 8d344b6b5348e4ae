import NIOCore
import NIOHTTP1

extension EndpointResponse {
    /// Writes the response as it goes on the wire: status line, the headers, and the body unless
    /// the request was a HEAD. Header names and values are credd's own constants and digits, so
    /// nothing needs validating or escaping.
    /// - Parameters:
    ///   - version: the request's version, echoed in the status line as NIO's encoder did.
    ///   - closing: whether the connection closes after this response (`Connection: close`).
    func write(to buffer: inout ByteBuffer, version: HTTPVersion, closing: Bool, includeBody: Bool) {
        let bodyLength = body.utf8.count
        buffer.reserveCapacity(minimumWritableBytes: 160 + bodyLength)
        buffer.writeString("HTTP/\(version.major).\(version.minor) \(status.code) \(status.reasonPhrase)\r\n")
        buffer.writeString("Content-Type: \(contentType)\r\nContent-Length: \(bodyLength)\r\n")
        for header in extraHeaders {
            buffer.writeString("\(header.name): \(header.value)\r\n")
        }
        if closing {
            buffer.writeString("Connection: close\r\n")
        } else if version == .http1_0 {
            buffer.writeString("Connection: keep-alive\r\n")
        }
        buffer.writeString("\r\n")
        if includeBody { buffer.writeString(body) }
    }

    /// This response with `prerendered` set: for responses served on every request, rendered once.
    func prerendering() -> EndpointResponse {
        var rendered = ByteBufferAllocator().buffer(capacity: 0)
        write(to: &rendered, version: .http1_1, closing: false, includeBody: true)
        var response = self
        response.prerendered = rendered
        return response
    }
}
