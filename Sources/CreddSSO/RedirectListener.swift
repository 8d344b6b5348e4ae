import CreddCore
import CreddEndpoint
import FoundationEssentials
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The loopback end of the authorization-code flow: an HTTP listener on 127.0.0.1 that waits for
/// the browser's redirect to `/oauth/callback` and takes the `code` whose `state` matches.
///
/// Every local user can connect to it, and the sign-in URL (with its `state`) is in the
/// browser's arguments, which every local user can read. So connections from another user's
/// processes are reset before a byte is read (the kernel's socket table names the owner, as for
/// the credential endpoint), and what the user's own processes send is bounded: connections at
/// once, bytes and time per connection, one request each. A request that is not the callback is
/// answered and the wait goes on.
enum RedirectListener {
    static let callbackPath = "/oauth/callback"

    /// What one connection may take from the listener. A browser's callback is one small GET
    /// sent at once; these leave it plenty of room.
    struct Limits: Sendable {
        /// Connections answered at the same time; more are reset at once.
        var connections = 16
        /// From the connection's accept to its whole request; then it is closed.
        var requestTime: TimeAmount = .seconds(10)
        /// The request line and headers, and the body, each.
        var requestBytes = 16 * 1024
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Listens on a free port of 127.0.0.1, runs `body` with that port (it opens the browser),
    /// and returns the authorization code of the first callback carrying `state`, with the
    /// port. Requests for other paths, or with another `state`, are refused and the wait goes on.
    /// `owners` tells whose process connected; only `user`'s are answered.
    static func waitForCode(
        state expectedState: String, group: any EventLoopGroup, limits: Limits = Limits(),
        owners: any SocketOwnerLookup = KernelSocketOwnerLookup(), user: UInt32 = getuid(),
        _ body: @escaping @Sendable (Int) async throws(SSOError) -> Void
    ) async throws(SSOError) -> (code: Secret, port: Int) {
        // Accepted connections are wrapped for async use only in the task that answers them: a
        // wrapped one still queued when the wait ends would trap when dropped (NIOAsyncWriter
        // must be finished), and the browser may be opening more just then. Until it is
        // wrapped, a connection reads nothing.
        let server: NIOAsyncChannel<(any Channel)?, Never>
        let open = OpenConnections()
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.autoRead, value: false)
                .bind(host: "127.0.0.1", port: 0) { channel in
                    channel.eventLoop.makeCompletedFuture { () throws -> (any Channel)? in
                        // Another user's process (or one the kernel cannot place), or one connection
                        // too many: a reset before anything is read.
                        guard (try? owners.ownerUID(of: channel)) == user, open.enter(limit: limits.connections) else {
                            _ = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                            channel.close(promise: nil)
                            return nil
                        }
                        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                        decoderLimits.maxHeaderListSize = limits.requestBytes
                        decoderLimits.maxHeaderFieldSize = limits.requestBytes
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withPipeliningAssistance: false, withErrorHandling: true, withEncoderConfiguration: .init(),
                            withDecoderLimitConfiguration: decoderLimits)
                        // A slow or silent client loses its connection, answered or not.
                        channel.eventLoop.scheduleTask(in: limits.requestTime) { channel.close(promise: nil) }
                        return channel
                    }
                }
        } catch {
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "cannot listen on 127.0.0.1: \(error)")
        }
        guard let port = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener has no port")
        }
        let (outcomes, found) = AsyncStream.makeStream(of: Result<Secret, SSOError>.self)
        // The first outcome wins: the callback's, the body's failure (the browser, the time
        // limit) or the listener's end; the rest is cancelled.
        let outcome = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await server.executeThenClose { connections in
                        try await serve(connections, open: open, expectedState: expectedState, limits: limits, found: found)
                    }
                    found.yield(.failure(SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener closed")))
                } catch {
                    found.yield(.failure(SSOError(kind: .loginFailed, operation: "sign-in", message: "the loopback listener failed: \(error)")))
                }
            }
            group.addTask {
                do throws(SSOError) {
                    try await body(port)
                } catch {
                    found.yield(.failure(error))
                }
            }
            for await first in outcomes {
                group.cancelAll()
                return first
            }
            return .failure(SSOError(kind: .loginFailed, operation: "sign-in", message: "no redirect arrived"))
        }
        return (try outcome.get(), port)
    }

    /// Answers each connection in a task of its own, so that one that never finishes its
    /// request holds up no other; `found` gets the outcome of the callback this sign-in waits for.
    private static func serve(
        _ connections: NIOAsyncChannelInboundStream<(any Channel)?>, open: OpenConnections, expectedState: String, limits: Limits,
        found: AsyncStream<Result<Secret, SSOError>>.Continuation
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for try await channel in connections {
                guard let channel else { continue }
                group.addTask {
                    defer { open.leave() }
                    let wrapped = try? await channel.eventLoop.submit { () throws -> Connection in
                        let connection = try Connection(wrappingChannelSynchronously: channel)
                        try channel.syncOptions?.setOption(.autoRead, value: true)
                        return connection
                    }.get()
                    guard let wrapped else {
                        channel.close(promise: nil)
                        return
                    }
                    if let outcome = await answer(wrapped, expectedState: expectedState, limits: limits) { found.yield(outcome) }
                }
            }
        }
    }

    /// How many connections are being answered; counted at accept, uncounted when answered.
    private final class OpenConnections: Sendable {
        private let count = Atomic(0)

        /// Counts one more connection, unless `limit` are open already.
        func enter(limit: Int) -> Bool {
            guard count.add(1, ordering: .relaxed).newValue <= limit else {
                count.subtract(1, ordering: .relaxed)
                return false
            }
            return true
        }

        func leave() {
            count.subtract(1, ordering: .relaxed)
        }
    }

    /// Answers one connection's first request, then closes it; the outcome when it was the
    /// callback this sign-in waits for. A connection's failure (the browser closing it early, a
    /// malformed or oversized request, the time limit) ends that connection, never the wait, and
    /// a code already received is kept even if the page could not be sent.
    private static func answer(_ connection: Connection, expectedState: String, limits: Limits) async -> Result<Secret, SSOError>? {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var bodyBytes = 0
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                case .body(let bytes):
                    bodyBytes += bytes.readableBytes
                    // A callback has no body; a client that sends one this large gets nothing.
                    if bodyBytes > limits.requestBytes { return nil }
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
