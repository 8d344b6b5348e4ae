import CreddCore
import FoundationEssentials
import Glibc

/// Finds which user runs the process at the other end of a loopback TCP connection.
public protocol SocketOwnerLookup: Sendable {
    /// The uid owning the client socket `client` connected to our `server` end; `nil` when the
    /// kernel lists no such socket (it closed, or it lives in another network namespace).
    func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32?
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
