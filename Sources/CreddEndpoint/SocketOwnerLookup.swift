import CreddCore
import CreddPlatform
import FoundationEssentials
import Glibc

/// Finds which user runs the process at the other end of a loopback TCP connection.
public protocol SocketOwnerLookup: Sendable {
    /// The uid owning the client socket `client` connected to our `server` end; `nil` when the
    /// kernel lists no such socket (it closed, or it lives in another network namespace).
    func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32?
}

/// The endpoint's lookup: asks the kernel for the one client socket over sock_diag netlink, in
/// microseconds, and reads `/proc/net/tcp` and `/proc/net/tcp6` only when that gives no owner.
///
/// The tables hold the same rows, but reading them walks every bucket of the machine's TCP socket
/// table: 8 ms per connection here, on the event loop that also serves the connections already
/// open. They stay the authority where netlink cannot answer: a socket it does not find (ENOENT
/// also means a kernel without TCP sock_diag), or a sandbox that forbids netlink sockets.
public struct KernelSocketOwnerLookup: SocketOwnerLookup {
    private let netlink: NetlinkSocketQuery
    private let tables: ProcNetSocketOwnerLookup

    public init(tables: ProcNetSocketOwnerLookup = ProcNetSocketOwnerLookup()) {
        self.init(netlinkProtocol: SockDiagMessage.netlinkProtocol, tables: tables)
    }

    /// Tests pass a netlink family the kernel does not have, to take the tables' path.
    init(netlinkProtocol: CInt, tables: ProcNetSocketOwnerLookup) {
        self.netlink = NetlinkSocketQuery(netlinkProtocol: netlinkProtocol)
        self.tables = tables
    }

    public func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32? {
        if case .owner(let uid) = netlink.ask(client: client, server: server) { return uid }
        return try tables.ownerUID(client: client, server: server)
    }
}

/// One sock_diag query on a netlink socket of its own: event loops may ask at the same time, and
/// no answer can be mistaken for another's.
struct NetlinkSocketQuery: Sendable {
    let netlinkProtocol: CInt

    /// The kernel's reply, or `.failed` with the errno of the socket call that failed.
    func ask(client: SocketEndpoint, server: SocketEndpoint) -> SockDiagMessage.Reply {
        let descriptor = socket(AF_NETLINK, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard descriptor >= 0 else { return .failed(errno: errno) }
        defer { close(descriptor) }
        // The kernel answers at once; a bound on the wait keeps a broken kernel from stalling the event loop.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            return .failed(errno: errno)
        }
        // Unconnected netlink sockets send to the kernel.
        let query = SockDiagMessage.ownerQuery(client: client, server: server)
        guard query.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == query.count else {
            return .failed(errno: errno)
        }
        var reply = [UInt8](repeating: 0, count: 8192)
        var received: Int
        repeat {
            received = reply.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        } while received < 0 && errno == EINTR
        guard received >= 0 else { return .failed(errno: errno) }
        reply.removeLast(reply.count - received)
        return SockDiagMessage.parseReply(reply, client: client, server: server)
    }
}

/// Looks the client socket up in `/proc/net/tcp` and `/proc/net/tcp6` (paths injectable for tests).
public struct ProcNetSocketOwnerLookup: SocketOwnerLookup {
    public let tablePaths: [String]

    public init(tablePaths: [String] = ["/proc/net/tcp", "/proc/net/tcp6"]) {
        self.tablePaths = tablePaths
    }

    public func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32? {
        var unreadable: EndpointError?
        for path in tablePaths {
            let text: String
            do {
                text = try Self.readWholeFile(path)
            } catch {
                // tcp6 is missing on kernels without IPv6; the other table may still hold the row.
                unreadable = error
                continue
            }
            if let uid = SocketTable.ownerUID(client: client, server: server, in: text) { return uid }
        }
        if let unreadable { throw unreadable }
        return nil
    }

    private static func readWholeFile(_ path: String) throws(EndpointError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .socketTableUnreadable(path: path, errno: errno) }
        defer { close(descriptor) }
        switch readToEnd(descriptor) {
        case let .success(contents): return String(decoding: contents, as: UTF8.self)
        case let .failure(failure): throw .socketTableUnreadable(path: path, errno: failure.errno)
        }
    }
}
