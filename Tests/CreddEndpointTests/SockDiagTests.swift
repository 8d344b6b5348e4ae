import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

/// The sock_diag netlink query that finds a client socket's owner: its bytes, its replies, and
/// the real kernel answering it.
struct SockDiagTests {
    // The fixture's connection (SocketTableTests.tcp, row 1): 127.0.0.1:54321 to 127.0.0.1:9911, uid 1000.
    let client: SocketEndpoint
    let server: SocketEndpoint

    init() throws {
        client = try #require(SocketEndpoint(address: [127, 0, 0, 1], port: 0xD431))
        server = try #require(SocketEndpoint(address: [127, 0, 0, 1], port: 0x26B7))
    }

    @Test func queryNamesOneIPv4SocketByItsAddressesAndPorts() throws {
        let query = SockDiagMessage.ownerQuery(client: client, server: server)
        #expect(query.count == 72)
        #expect(Self.native32(query, 0) == 72)
        #expect(Self.native16(query, 4) == 20)  // SOCK_DIAG_BY_FAMILY
        #expect(Self.native16(query, 6) == 1)  // NLM_F_REQUEST, no NLM_F_DUMP
        #expect(query[16] == UInt8(AF_INET))
        #expect(query[17] == UInt8(IPPROTO_TCP))
        #expect(Self.native32(query, 20) == UInt32.max)  // every state
        #expect(Array(query[24..<28]) == [0xD4, 0x31, 0x26, 0xB7])  // ports, network order
        #expect(Array(query[28..<44]) == [127, 0, 0, 1] + [UInt8](repeating: 0, count: 12))
        #expect(Array(query[44..<60]) == [127, 0, 0, 1] + [UInt8](repeating: 0, count: 12))
        #expect(Self.native32(query, 60) == 0)  // any interface
        #expect(Self.native32(query, 64) == UInt32.max && Self.native32(query, 68) == UInt32.max)  // no cookie
    }

    @Test func queryKeepsIPv6AddressesWhole() throws {
        let loopback = [UInt8](repeating: 0, count: 15) + [1]
        let client = try #require(SocketEndpoint(address: loopback, port: 50000))
        let server = try #require(SocketEndpoint(address: loopback, port: 9911))
        let query = SockDiagMessage.ownerQuery(client: client, server: server)
        #expect(query[16] == UInt8(AF_INET6))
        #expect(Array(query[28..<44]) == loopback)
        #expect(Array(query[44..<60]) == loopback)
    }

    @Test func replyCarryingTheSocketGivesItsOwner() throws {
        let reply = Self.socketReply(uid: 1000)
        #expect(SockDiagMessage.parseReply(reply, client: client, server: server) == .owner(uid: 1000))
    }

    @Test func errorReplyGivesItsErrno() throws {
        #expect(SockDiagMessage.parseReply(Self.errorReply(-ENOENT), client: client, server: server) == .failed(errno: ENOENT))
    }

    @Test(
        arguments: [
            ("empty", []),
            ("shorter than a header", Array(socketReply(uid: 1000).prefix(12))),
            ("cut inside the socket", Array(socketReply(uid: 1000).prefix(80))),
            ("length beyond the bytes", setNative32(socketReply(uid: 1000), at: 0, to: 200)),
            ("length below a header", setNative32(socketReply(uid: 1000), at: 0, to: 8)),
            ("another sequence number", setNative32(socketReply(uid: 1000), at: 8, to: 7)),
            ("another message type", setNative32(socketReply(uid: 1000), at: 4, to: 3)),
            ("another client port", replacing(socketReply(uid: 1000), at: 20, with: [0xD4, 0x32])),
            ("another server port", replacing(socketReply(uid: 1000), at: 22, with: [0x26, 0xB8])),
            ("an acknowledgement", errorReply(0)),
            ("an error without its errno", Array(errorReply(-ENOENT).prefix(18))),
        ] as [(String, [UInt8])])
    func repliesThatAnswerSomethingElseAreMalformed(_ name: String, reply: [UInt8]) throws {
        #expect(SockDiagMessage.parseReply(reply, client: client, server: server) == .malformed, "\(name)")
    }

    @Test(arguments: [false, true])
    func kernelNamesThisUserAsOwnerOfALiveConnection(ipv6: Bool) throws {
        let connection = try LoopbackConnection(ipv6: ipv6)
        defer { connection.close() }
        let query = NetlinkSocketQuery(netlinkProtocol: SockDiagMessage.netlinkProtocol)
        #expect(query.ask(client: connection.client, server: connection.server) == .owner(uid: getuid()))
    }

    @Test func kernelFindsAnIPv6ClientOfTheIPv4Listener() throws {
        // The server sees 127.0.0.1; the client's socket is an IPv6 one, connected to ::ffff:127.0.0.1.
        let connection = try LoopbackConnection(mappedClient: true)
        defer { connection.close() }
        #expect(connection.client.description.hasPrefix("127.0.0.1:"))
        let query = NetlinkSocketQuery(netlinkProtocol: SockDiagMessage.netlinkProtocol)
        #expect(query.ask(client: connection.client, server: connection.server) == .owner(uid: getuid()))
    }

    @Test func kernelFindsNoSocketOnAPortNobodyConnected() throws {
        try LoopbackConnection.withBoundEndpoint { unconnected in
            let server = try #require(SocketEndpoint(address: [127, 0, 0, 1], port: 1))
            let query = NetlinkSocketQuery(netlinkProtocol: SockDiagMessage.netlinkProtocol)
            #expect(query.ask(client: unconnected, server: server) == .failed(errno: ENOENT))
        }
    }

    @Test func listenerOnTheClientsPortIsNotTakenForTheClient() throws {
        // With no connected socket to match, the kernel answers with a listener on the client's
        // address: its peer port (0) is not the server's, so the answer is not the client's.
        let connection = try LoopbackConnection()
        defer { connection.close() }
        let server = try #require(SocketEndpoint(address: [127, 0, 0, 1], port: 1))
        let query = NetlinkSocketQuery(netlinkProtocol: SockDiagMessage.netlinkProtocol)
        #expect(query.ask(client: connection.server, server: server) == .malformed)
    }

    @Test func netlinkAnswerIsUsedWithoutReadingTheTables() throws {
        let connection = try LoopbackConnection()
        defer { connection.close() }
        let lookup = KernelSocketOwnerLookup(tables: ProcNetSocketOwnerLookup(tablePaths: ["/nonexistent/credd-test/tcp"]))
        #expect(try lookup.ownerUID(client: connection.client, server: connection.server) == getuid())
    }

    @Test func tablesAnswerWhenNetlinkIsUnavailable() throws {
        let uid = try withTables { tables in
            // No netlink family 32 exists (MAX_LINKS): socket(2) fails, as in a sandbox without netlink.
            try KernelSocketOwnerLookup(netlinkProtocol: 32, tables: tables).ownerUID(client: client, server: server)
        }
        #expect(uid == 1000)
    }

    @Test func tablesAnswerWhenNetlinkFindsNoSocket() throws {
        let uid = try withTables { tables in
            // The fixture's socket does not exist on this machine: the kernel answers ENOENT.
            try KernelSocketOwnerLookup(tables: tables).ownerUID(client: client, server: server)
        }
        #expect(uid == 1000)
    }

    @Test func unreadableTablesFailClosedWhenNetlinkCannotAnswer() throws {
        let lookup = KernelSocketOwnerLookup(netlinkProtocol: 32, tables: ProcNetSocketOwnerLookup(tablePaths: ["/nonexistent/credd-test/tcp"]))
        let error = #expect(throws: EndpointError.self) {
            try lookup.ownerUID(client: client, server: server)
        }
        #expect(error?.description.contains("/nonexistent/credd-test/tcp") == true)
    }

    private func withTables<T>(_ body: (ProcNetSocketOwnerLookup) throws -> T) throws -> T {
        let directory = try TemporaryDirectory(prefix: "credd-sock-diag")
        defer { directory.remove() }
        let tcp = directory.url.appendingPathComponent("tcp")
        try SocketTableTests.tcp.write(to: tcp, atomically: true, encoding: .utf8)
        return try body(ProcNetSocketOwnerLookup(tablePaths: [tcp.path]))
    }

    /// What the kernel sends for the fixture's client socket: nlmsghdr, then inet_diag_msg.
    static func socketReply(uid: UInt32) -> [UInt8] {
        var reply = [UInt8](repeating: 0, count: 16 + 72)
        reply = setNative32(reply, at: 0, to: UInt32(reply.count))
        reply = setNative32(reply, at: 4, to: 20)
        reply = setNative32(reply, at: 8, to: 1)
        reply[16] = UInt8(AF_INET)
        reply[17] = 1  // TCP_ESTABLISHED
        reply = replacing(reply, at: 20, with: [0xD4, 0x31, 0x26, 0xB7])
        return setNative32(reply, at: 16 + 64, to: uid)
    }

    /// An nlmsgerr reply: the header, the (negative) errno, and the query's header.
    static func errorReply(_ error: Int32) -> [UInt8] {
        var reply = [UInt8](repeating: 0, count: 16 + 4 + 16)
        reply = setNative32(reply, at: 0, to: UInt32(reply.count))
        reply = setNative32(reply, at: 4, to: 2)
        reply = setNative32(reply, at: 8, to: 1)
        return setNative32(reply, at: 16, to: UInt32(bitPattern: error))
    }

    /// Sets 4 bytes in host order; at offset 4 this sets the 16-bit type and zero flags.
    static func setNative32(_ bytes: [UInt8], at offset: Int, to value: UInt32) -> [UInt8] {
        replacing(bytes, at: offset, with: withUnsafeBytes(of: value) { Array($0) })
    }

    static func replacing(_ bytes: [UInt8], at offset: Int, with replacement: [UInt8]) -> [UInt8] {
        var bytes = bytes
        bytes.replaceSubrange(offset..<offset + replacement.count, with: replacement)
        return bytes
    }

    static func native32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    static func native16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    }
}
