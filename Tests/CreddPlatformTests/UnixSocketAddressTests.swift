import CreddPlatform
import Glibc
import Testing

@Suite struct UnixSocketAddressTests {
    @Test func pathsAreStoredWithTheirTerminatingNul() throws {
        let address = try #require(UnixSocketAddress(path: "/run/user/1000/credd/control.sock"))
        let (family, length, bytes) = address.withSockaddr { pointer, length in
            (CInt(pointer.pointee.sa_family), Int(length), Array(UnsafeRawBufferPointer(start: pointer, count: Int(length))))
        }
        #expect(family == AF_UNIX)
        #expect(length == 2 + 33 + 1)
        #expect(bytes.suffix(34) == ArraySlice(Array("/run/user/1000/credd/control.sock".utf8) + [0]))
    }

    @Test func abstractNamesStartWithNulAndEndWithoutOne() throws {
        let address = try #require(UnixSocketAddress(abstractName: "credd"))
        let bytes = address.withSockaddr { Array(UnsafeRawBufferPointer(start: $0, count: Int($1))) }
        #expect(bytes.dropFirst(2) == ArraySlice([0] + Array("credd".utf8)))
    }

    @Test func addressesThatDoNotFitAreRefused() {
        #expect(UnixSocketAddress(path: "/" + String(repeating: "x", count: 106)) != nil)
        #expect(UnixSocketAddress(path: "/" + String(repeating: "x", count: 107)) == nil)
        #expect(UnixSocketAddress(abstractName: String(repeating: "x", count: 107)) != nil)
        #expect(UnixSocketAddress(abstractName: String(repeating: "x", count: 108)) == nil)
        #expect(UnixSocketAddress(abstractName: "") == nil)
    }
}
