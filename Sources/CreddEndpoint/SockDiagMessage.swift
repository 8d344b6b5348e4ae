import Glibc

/// The one sock_diag exchange credd makes: asking the kernel for a single TCP socket, named by
/// its four addresses and ports, and reading its owner from the answer.
///
/// Without `NLM_F_DUMP` the kernel finds the socket by hash, in microseconds; `/proc/net/tcp`
/// instead prints every bucket of the machine's socket table (8 ms per read on a 24 GiB machine).
/// Layouts from linux/netlink.h (`nlmsghdr`) and linux/inet_diag.h (`inet_diag_req_v2`,
/// `inet_diag_msg`); integers are in host order, ports and addresses in network order.
enum SockDiagMessage {
    /// `NETLINK_SOCK_DIAG`, the netlink family to open.
    static let netlinkProtocol: CInt = 4
    /// `SOCK_DIAG_BY_FAMILY`: the request, and a reply that carries a socket.
    private static let requestType: UInt16 = 20
    /// `NLMSG_ERROR`: a reply that carries an errno instead.
    private static let errorType: UInt16 = 2
    /// `NLM_F_REQUEST`, and no `NLM_F_DUMP`: one socket, looked up.
    private static let requestFlags: UInt16 = 1
    /// One query per netlink socket: any fixed number identifies the answer.
    private static let sequence: UInt32 = 1
    private static let headerSize = 16
    /// `struct inet_diag_sockid`: ports, two 16-byte addresses, interface, cookie.
    private static let socketIDSize = 48
    /// `idiag_uid` in `struct inet_diag_msg`, after family, state, timer, retrans, the socket
    /// id, and expires, rqueue and wqueue.
    private static let uidOffset = headerSize + 4 + socketIDSize + 12

    /// What the kernel answered.
    enum Reply: Equatable {
        case owner(uid: UInt32)
        /// `ENOENT`: no such socket, or no TCP handler for sock_diag in this kernel.
        case failed(errno: Int32)
        /// Not an answer to the query (too short, another type, another socket).
        case malformed
    }

    /// The query for the socket whose own end is `client` and whose peer is `server`. Both IPv4
    /// (mapped) ends are asked about as `AF_INET`, as the kernel keeps them.
    static func ownerQuery(client: SocketEndpoint, server: SocketEndpoint) -> [UInt8] {
        let family = client.isIPv4Mapped && server.isIPv4Mapped ? AF_INET : AF_INET6
        var message: [UInt8] = []
        message.reserveCapacity(headerSize + 8 + socketIDSize)
        appendNative(UInt32(headerSize + 8 + socketIDSize), to: &message)
        appendNative(requestType, to: &message)
        appendNative(requestFlags, to: &message)
        appendNative(sequence, to: &message)
        appendNative(UInt32(0), to: &message)  // nlmsg_pid: the kernel fills in ours
        // inet_diag_req_v2: family, protocol, no extensions, padding, every TCP state.
        message += [UInt8(family), UInt8(IPPROTO_TCP), 0, 0]
        appendNative(UInt32.max, to: &message)
        appendSocketID(client: client, server: server, family: family, to: &message)
        return message
    }

    /// Reads the reply to `ownerQuery(client:server:)`.
    static func parseReply(_ reply: [UInt8], client: SocketEndpoint, server: SocketEndpoint) -> Reply {
        guard reply.count >= headerSize,
            let length = native(UInt32.self, in: reply, at: 0), Int(length) <= reply.count, Int(length) >= headerSize,
            let type = native(UInt16.self, in: reply, at: 4),
            native(UInt32.self, in: reply, at: 8) == sequence
        else { return .malformed }
        switch type {
        case errorType:
            // nlmsgerr: a negative errno (0 would be an acknowledgement, which a query never gets).
            guard length >= headerSize + 4, let error = native(UInt32.self, in: reply, at: headerSize), Int32(bitPattern: error) < 0 else {
                return .malformed
            }
            return .failed(errno: -Int32(bitPattern: error))
        case requestType:
            let ports = headerSize + 4
            guard length >= uidOffset + 4,
                reply[ports..<ports + 4].elementsEqual(portBytes(client: client, server: server)),
                let uid = native(UInt32.self, in: reply, at: uidOffset)
            else { return .malformed }
            return .owner(uid: uid)
        default:
            return .malformed
        }
    }

    private static func appendSocketID(client: SocketEndpoint, server: SocketEndpoint, family: CInt, to message: inout [UInt8]) {
        message += portBytes(client: client, server: server)
        for end in [client, server] {
            // IPv4 addresses go in the first four bytes of the 16.
            let address = family == AF_INET ? Array(end.address.suffix(4)) + [UInt8](repeating: 0, count: 12) : end.address
            message += address
        }
        appendNative(UInt32(0), to: &message)  // any interface
        // INET_DIAG_NOCOOKIE: found by addresses, not by a cookie from an earlier answer.
        appendNative(UInt32.max, to: &message)
        appendNative(UInt32.max, to: &message)
    }

    private static func appendNative<Integer: FixedWidthInteger>(_ value: Integer, to message: inout [UInt8]) {
        withUnsafeBytes(of: value) { message += $0 }
    }

    /// The socket id's source and destination ports, in network order.
    private static func portBytes(client: SocketEndpoint, server: SocketEndpoint) -> [UInt8] {
        [UInt8(client.port >> 8), UInt8(client.port & 0xFF), UInt8(server.port >> 8), UInt8(server.port & 0xFF)]
    }

    private static func native<Integer: FixedWidthInteger>(_ type: Integer.Type, in bytes: [UInt8], at offset: Int) -> Integer? {
        guard offset >= 0, offset + MemoryLayout<Integer>.size <= bytes.count else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Integer.self) }
    }
}
