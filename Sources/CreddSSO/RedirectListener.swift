import CreddCore
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix

/// The loopback end of the authorization-code flow: an HTTP listener on 127.0.0.1 that waits for
/// the browser's redirect to `/oauth/callback` and takes the `code` whose `state` matches.
enum RedirectListener {
    static let callbackPath = "/oauth/callback"

    /// Listens on a free port of 127.0.0.1, runs `body` with that port (it opens the browser),
    /// and returns the authorization code of the first callback carrying `state`, with the
    /// port. Requests for other paths, or with another `state`, are refused and the wait goes on.
    static func waitForCode(
        state expectedState: String, group: any EventLoopGroup, _ body: @escaping @Sendable (Int) async throws(SSOError) -> Void
    ) async throws(SSOError) -> (code: Secret, port: Int) {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: 0) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "cannot listen on 127.0.0.1: \(error)")
        }
        guard let port = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener has no port")
        }
        let outcome: Result<Secret, SSOError>
        do {
            outcome = try await withThrowingTaskGroup(of: Result<Secret, SSOError>?.self) { group in
                group.addTask {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            if let outcome = await answer(connection, expectedState: expectedState) { return outcome }
                        }
                        return .failure(SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener closed"))
                    }
                }
                group.addTask {
                    do throws(SSOError) {
                        try await body(port)
                        return nil
                    } catch {
                        return .failure(error)
                    }
                }
                while let next = try await group.next() {
                    if let next {
                        group.cancelAll()
                        return next
                    }
                }
                return .failure(SSOError(kind: .loginFailed, operation: "sign-in", message: "no redirect arrived"))
            }
        } catch {
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener failed: \(error)")
        }
        return (try outcome.get(), port)
    }

    /// Answers one connection; the outcome when it was the callback this sign-in waits for. A
    /// connection's failure (the browser closing it early) ends that connection, never the wait,
    /// and a code already received is kept even if the page could not be sent.
    private static func answer(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, expectedState: String
    ) async -> Result<Secret, SSOError>? {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                case .body:
                    continue
                case .end:
                    let (status, page, outcome) = verdict(head, expectedState: expectedState)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                    headers.add(name: "Content-Length", value: String(page.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    try? await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
                    try? await outbound.write(.body(.byteBuffer(ByteBuffer(string: page))))
                    try? await outbound.write(.end(nil))
                    return outcome
                }
            }
            return nil
        } ?? nil
    }

    private static func verdict(_ head: HTTPRequestHead?, expectedState: String) -> (HTTPResponseStatus, String, Result<Secret, SSOError>?) {
        guard let head, head.method == .GET else { return (.methodNotAllowed, "Not a sign-in callback.\n", nil) }
        let (path, query) = splitQuery(head.uri)
        guard path == callbackPath else { return (.notFound, "Not found.\n", nil) }
        guard query["state"] == expectedState else {
            // Another page's request (or a stale tab): refuse it, keep waiting for the real one.
            return (.badRequest, "This sign-in link is not the one credd opened.\n", nil)
        }
        if let error = query["error"] {
            let failure = SSOError(
                kind: .loginFailed, code: SSOHTTP.oauthErrorNames[error] ?? error, operation: "sign-in",
                message: "the authorization was refused: \(scrubbed(query["error_description"] ?? error, removing: []))")
            return (.ok, "Sign-in refused. You can close this tab.\n", .failure(failure))
        }
        guard let code = query["code"], !code.isEmpty else {
            return (.badRequest, "The callback carries no code.\n", nil)
        }
        return (.ok, "Signed in to credd. You can close this tab.\n", .success(Secret(code)))
    }

    /// The path and the decoded query parameters of a request target.
    static func splitQuery(_ uri: String) -> (path: String, query: [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        for pair in (parts.count > 1 ? parts[1] : "").split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecoded(keyValue[0])
            if query[key] == nil { query[key] = keyValue.count > 1 ? percentDecoded(keyValue[1]) : "" }
        }
        return (String(parts[0]), query)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
