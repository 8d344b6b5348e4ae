#if canImport(Glibc)
    import Glibc
#endif

/// An `AF_UNIX` socket address: a filesystem path, or a name in Linux's abstract namespace.
public struct UnixSocketAddress: Sendable {
    private var address = sockaddr_un()
    private let length: socklen_t

    /// A filesystem path, stored NUL-terminated. Nil when the path does not fit `sun_path`.
    public init?(path: String) {
        guard let length = Self.store(Array(path.utf8), in: &address, terminated: true) else { return nil }
        self.length = length
    }

    /// A name in the abstract namespace (`@name` in systemd's notation, without the `@`): a
    /// leading NUL and exactly the name's bytes. Nil when the name is empty or does not fit.
    public init?(abstractName: String) {
        guard !abstractName.isEmpty,
            let length = Self.store([0] + Array(abstractName.utf8), in: &address, terminated: false)
        else { return nil }
        self.length = length
    }

    /// Calls `body` with the address as `connect`, `bind` and `sendto` take it.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    private static func store(_ bytes: [UInt8], in address: inout sockaddr_un, terminated: Bool) -> socklen_t? {
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count + (terminated ? 1 : 0) <= capacity else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (terminated ? 1 : 0))
    }
}
