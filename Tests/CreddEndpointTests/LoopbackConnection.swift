import Glibc
import Testing

@testable import CreddEndpoint

/// A real TCP connection over loopback within the test process (IPv4 127.0.0.1 or IPv6 ::1):
/// a listener, a client socket and the accepted one, closed by `close()`.
struct LoopbackConnection {
    let client: SocketEndpoint
    let server: SocketEndpoint
    private let descriptors: [CInt]

    /// - Parameters:
    ///   - ipv6: listen and connect on ::1 instead of 127.0.0.1.
    ///   - mappedClient: connect to the IPv4 listener from an IPv6 socket (`::ffff:127.0.0.1`), as
    ///     dual-stack clients do; `client` is then the address the server sees, 127.0.0.1.
    init(ipv6: Bool = false, mappedClient: Bool = false) throws {
        var opened: [CInt] = []
        do {
            let listener = socket(ipv6 ? AF_INET6 : AF_INET, CInt(SOCK_STREAM.rawValue), 0)
            try #require(listener >= 0)
            opened.append(listener)
            var address = Self.loopback(ipv6: ipv6, port: 0)
            try #require(Self.withSocketAddress(&address) { bind(listener, $0, $1) } == 0)
            try #require(listen(listener, 1) == 0)
            let server = try Self.endpoint(of: listener, getsockname)

            let client = socket(ipv6 || mappedClient ? AF_INET6 : AF_INET, CInt(SOCK_STREAM.rawValue), 0)
            try #require(client >= 0)
            opened.append(client)
            var target = mappedClient ? Self.mappedLoopback(port: server.port) : Self.loopback(ipv6: ipv6, port: server.port)
            try #require(Self.withSocketAddress(&target) { connect(client, $0, $1) } == 0)
            let accepted = accept(listener, nil, nil)
            try #require(accepted >= 0)
            opened.append(accepted)
            self.client = try Self.endpoint(of: accepted, getpeername)
            self.server = server
            self.descriptors = opened
        } catch {
            opened.forEach { _ = Glibc.close($0) }
            throw error
        }
    }

    /// Runs `body` with the address of an IPv4 loopback socket that is bound but neither listens
    /// nor connects: a port that holds no connection.
    static func withBoundEndpoint(_ body: (SocketEndpoint) throws -> Void) throws {
        let descriptor = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { _ = Glibc.close(descriptor) }
        var address = loopback(ipv6: false, port: 0)
        try #require(withSocketAddress(&address) { bind(descriptor, $0, $1) } == 0)
        try body(try endpoint(of: descriptor, getsockname))
    }

    func close() {
        descriptors.forEach { _ = Glibc.close($0) }
    }

    private static func loopback(ipv6: Bool, port: UInt16) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if ipv6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                address.sin6_addr = in6addr_loopback
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
        }
        return storage
    }

    private static func mappedLoopback(port: UInt16) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { bytes in
                bytes.copyBytes(from: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1] as [UInt8])
            }
            withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
        }
        return storage
    }

    private static func withSocketAddress(_ storage: inout sockaddr_storage, _ body: (UnsafePointer<sockaddr>, socklen_t) -> CInt) -> CInt {
        let length = socklen_t(storage.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }

    /// The address `name` (getsockname or getpeername) gives for `descriptor`.
    private static func endpoint(
        of descriptor: CInt, _ name: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws -> SocketEndpoint {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try #require(
            withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { name(descriptor, $0, &length) } } == 0)
        return try withUnsafeBytes(of: storage) { raw in
            if storage.ss_family == sa_family_t(AF_INET6) {
                let address = raw.loadUnaligned(as: sockaddr_in6.self)
                return try #require(
                    SocketEndpoint(address: withUnsafeBytes(of: address.sin6_addr) { Array($0) }, port: UInt16(bigEndian: address.sin6_port)))
            }
            let address = raw.loadUnaligned(as: sockaddr_in.self)
            return try #require(
                SocketEndpoint(address: withUnsafeBytes(of: address.sin_addr) { Array($0) }, port: UInt16(bigEndian: address.sin_port)))
        }
    }
}
