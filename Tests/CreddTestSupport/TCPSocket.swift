import Foundation

/// IPv4 TCP sockets for tests of code that binds, adopts or connects.
public enum TCPSocket {
    /// A TCP socket bound to `address` on a port the kernel picks, listening when `listening`.
    /// The caller closes it.
    public static func bound(to address: String = "127.0.0.1", listening: Bool) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket: errno \(errno)") }
        var socketAddress = Self.address(address, port: 0)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            close(descriptor)
            throw TestSupportError("bind \(address): errno \(error)")
        }
        if listening && listen(descriptor, 16) != 0 {
            let error = errno
            close(descriptor)
            throw TestSupportError("listen: errno \(error)")
        }
        return descriptor
    }

    /// The local port a bound socket has.
    public static func port(of descriptor: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let found = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard found == 0 else { throw TestSupportError("getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func address(_ text: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(text)
        return address
    }
}
