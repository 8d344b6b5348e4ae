import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

struct SocketTableTests {
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:26B7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
           1: 0100007F:D431 0100007F:26B7 01 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0000000000000000 20 4 30 10 -1
           2: 0100007F:26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 23457 1 0000000000000000 20 4 30 10 -1
           3: 0F02000A:8AE2 5DB8D822:01BB 01 00000000:00000000 02:0000051E 00000000  1000        0 34567 2 0000000000000000 20 4 30 10 -1
        """

    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:26B7 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3456 1 0000000000000000 100 0 0 10 0
           1: 00000000000000000000000001000000:C350 00000000000000000000000001000000:26B7 01 00000000:00000000 00:00000000 00000000  1001        0 3457 1 0000000000000000 20 4 30 10 -1
           2: 0000000000000000FFFF00000100007F:C351 0000000000000000FFFF00000100007F:26B7 01 00000000:00000000 00:00000000 00000000  1002        0 3458 1 0000000000000000 20 4 30 10 -1
        """

    static func v4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) throws -> SocketEndpoint {
        try #require(SocketEndpoint(address: [a, b, c, d], port: port))
    }

    static func v6Loopback(port: UInt16) throws -> SocketEndpoint {
        try #require(SocketEndpoint(address: [UInt8](repeating: 0, count: 15) + [1], port: port))
    }

    @Test func parsesIPv4RowsAndSkipsTheHeader() throws {
        let entries = SocketTable.parse(Self.tcp)
        #expect(entries.count == 4)
        #expect(entries[1].local == (try Self.v4(127, 0, 0, 1, port: 54321)))
        #expect(entries[1].remote == (try Self.v4(127, 0, 0, 1, port: 9911)))
        #expect(entries[1].uid == 1000)
        #expect(entries[3].local == (try Self.v4(10, 0, 2, 15, port: 35554)))
        #expect(entries[3].remote == (try Self.v4(34, 216, 184, 93, port: 443)))
    }

    @Test func findsTheClientSideNotTheServerSide() throws {
        let uid = SocketTable.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 54321), server: try Self.v4(127, 0, 0, 1, port: 9911), in: Self.tcp)
        #expect(uid == 1000)
        let reversed = SocketTable.ownerUID(
            client: try Self.v4(127, 0, 0, 1, port: 9911), server: try Self.v4(127, 0, 0, 1, port: 54321), in: Self.tcp)
        #expect(reversed == 0)
        let absent = SocketTable.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 1), server: try Self.v4(127, 0, 0, 1, port: 9911), in: Self.tcp)
        #expect(absent == nil)
    }

    @Test func parsesIPv6Loopback() throws {
        let uid = SocketTable.ownerUID(client: try Self.v6Loopback(port: 50000), server: try Self.v6Loopback(port: 9911), in: Self.tcp6)
        #expect(uid == 1001)
        #expect(SocketTable.parse(Self.tcp6)[1].local.description == "[0:0:0:0:0:0:0:1]:50000")
    }

    @Test func v4MappedRowsMatchIPv4Addresses() throws {
        let uid = SocketTable.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 50001), server: try Self.v4(127, 0, 0, 1, port: 9911), in: Self.tcp6)
        #expect(uid == 1002)
        #expect(try Self.v4(127, 0, 0, 1, port: 50001).description == "127.0.0.1:50001")
    }

    @Test(arguments: [
        "",
        "garbage",
        "   0: 0100007F:26B7",
        "   0: 0100007F:26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000  notauid 0 1",
        "   0: 0100007G:26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000 0 1",
        "   0: 0100007F:26B 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000 0 1",
        "   0: 0100007F26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000 0 1",
        "   0: 00007F:26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000 0 1",
        "   0: 0100007F:26B7 0100007F:D431 01 00000000:00000000 00:00000000 00000000  99999999999 0 1",
    ])
    func malformedRowsAreSkipped(row: String) {
        #expect(SocketTable.parse(row).isEmpty)
    }

    @Test func rejectsAddressesOfOtherLengths() {
        #expect(SocketEndpoint(address: [127, 0, 1], port: 1) == nil)
    }

    @Test func readerUsesInjectedPathsAndFailsClosedWhenUnreadable() throws {
        let directoryDirectory = try TemporaryDirectory(prefix: "credd-socket-table")
        defer { directoryDirectory.remove() }
        let directory = directoryDirectory.url
        let tcp = directory.appendingPathComponent("tcp")
        let tcp6 = directory.appendingPathComponent("tcp6")
        try Self.tcp.write(to: tcp, atomically: true, encoding: .utf8)
        try Self.tcp6.write(to: tcp6, atomically: true, encoding: .utf8)
        let lookup = ProcNetSocketOwnerLookup(tablePaths: [tcp.path, tcp6.path])
        #expect(try lookup.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 54321), server: try Self.v4(127, 0, 0, 1, port: 9911)) == 1000)
        #expect(try lookup.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 50001), server: try Self.v4(127, 0, 0, 1, port: 9911)) == 1002)
        #expect(try lookup.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 2), server: try Self.v4(127, 0, 0, 1, port: 9911)) == nil)

        let missing = ProcNetSocketOwnerLookup(tablePaths: [directory.appendingPathComponent("absent").path])
        let error = #expect(throws: EndpointError.self) {
            try missing.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 2), server: try Self.v4(127, 0, 0, 1, port: 9911))
        }
        #expect(error?.description.contains("absent") == true)
        // One readable table that holds the row is enough, even if the other is missing.
        let partial = ProcNetSocketOwnerLookup(tablePaths: [tcp.path, directory.appendingPathComponent("absent").path])
        #expect(try partial.ownerUID(client: try Self.v4(127, 0, 0, 1, port: 54321), server: try Self.v4(127, 0, 0, 1, port: 9911)) == 1000)
    }

    @Test func liveLoopbackConnectionBelongsToThisUser() throws {
        let connection = try LoopbackConnection()
        defer { connection.close() }
        let uid = try ProcNetSocketOwnerLookup().ownerUID(client: connection.client, server: connection.server)
        #expect(uid == getuid())
    }
}
