import CreddBus
import CreddTestSupport
import Foundation
import Testing

@Suite(.enabled(if: PrivateBus.isAvailable, "needs dbus-daemon and python3-dbusmock (scripts/install-deps)"))
struct BusConnectionTests {
    @Test func callsTheBusAndReadsArraysOfStrings() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let reply = try await connection.call(
            destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "ListNames")
        let names = try #require(reply.first?.arrayValue).compactMap(\.stringValue)
        #expect(names.contains("org.freedesktop.DBus"))
    }

    @Test func readsDictionariesOfVariants() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let reply = try await connection.call(
            destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
            member: "GetConnectionCredentials", arguments: [.string("org.freedesktop.DBus")])
        let entries = try #require(reply.first?.arrayValue)
        let userID = entries.compactMap { entry -> BusValue? in
            guard case .dictEntry(.string("UnixUserID"), .variant(let value)) = entry else { return nil }
            return value
        }
        #expect(userID == [.uint32(getuid())])
    }

    @Test func writesArraysDictionariesAndVariants() async throws {
        let bus = try PrivateBus()
        let log = bus.address.replacingOccurrences(of: "unix:path=", with: "") + ".log"
        let mock = try bus.startMock(template: "notification_daemon", owning: "org.freedesktop.Notifications", log: log)
        defer { mock.signal(SIGTERM) }
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let reply = try await connection.call(
            destination: "org.freedesktop.Notifications", path: "/org/freedesktop/Notifications",
            interface: "org.freedesktop.Notifications", member: "Notify",
            arguments: [
                .string("credd"), .uint32(0), .string(""), .string("summary"), .string("body"),
                .array(elementSignature: "s", [.string("enter-code"), .string("Enter code")]),
                .dictionary(valueSignature: "v", [("urgency", .variant(.byte(2))), ("resident", .variant(.bool(true)))]),
                .int32(-1),
            ])
        #expect(reply == [.uint32(1)])
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains(#"Notify "credd" 0 "" "summary" "body" ["enter-code", "Enter code"]"#), "\(logged)")
        #expect(logged.contains("urgency"))
    }

    @Test func noBusIsAnError() async throws {
        let directory = try TemporaryDirectory(prefix: "credd-nobus")
        let address = "unix:path=\(directory.file("bus"))"
        await #expect {
            _ = try await BusConnection.open(address: address)
        } throws: { error in
            guard case .noBus(let reported, _) = error as? BusError else { return false }
            return reported == address
        }
    }

    @Test func aMissingServiceIsNamed() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        await #expect(throws: BusError.serviceMissing("org.example.Missing")) {
            _ = try await connection.call(destination: "org.example.Missing", path: "/", interface: "org.example.Missing", member: "Ping")
        }
    }

    @Test func signalsArriveOnTheirStream() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let signals = try await connection.signals(
            sender: "org.freedesktop.DBus", path: nil, interface: "org.freedesktop.DBus", member: "NameOwnerChanged")
        let other = try await BusConnection.open(address: bus.address)
        defer { other.close() }
        let signal = try await within(10, "NameOwnerChanged") { () async throws -> BusSignal in
            for await signal in signals { return signal }
            throw TestSupportError("the signal stream ended")
        }
        #expect(signal.member == "NameOwnerChanged")
        #expect(signal.arguments.count == 3)
    }

    @Test func aBusThatGoesAwayEndsStreamsAndFailsCalls() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        let signals = try await connection.signals(sender: nil, path: nil, interface: "org.example.Never", member: nil)
        bus.stop()
        try await within(10, "the connection to close") { await connection.waitUntilClosed() }
        try await within(10, "the signal stream to end") { for await _ in signals {} }
        #expect(!connection.isOpen)
        await #expect(throws: BusError.disconnected) {
            _ = try await connection.call(
                destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "ListNames")
        }
    }

    @Test func aClosedConnectionFailsCalls() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        connection.close()
        try await within(10, "the connection to close") { await connection.waitUntilClosed() }
        await #expect(throws: BusError.disconnected) {
            _ = try await connection.signals(sender: nil, path: nil, interface: nil, member: nil)
        }
    }

    @Test func sessionAddressFallsBackToTheRuntimeDirectory() {
        #expect(BusAddress.session(environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=/a"], socketExists: { _ in false }) == "unix:path=/a")
        #expect(
            BusAddress.session(environment: ["XDG_RUNTIME_DIR": "/run/user/7"], socketExists: { $0 == "/run/user/7/bus" })
                == "unix:path=/run/user/7/bus")
        #expect(BusAddress.session(environment: ["XDG_RUNTIME_DIR": "/run/user/7"], socketExists: { _ in false }) == nil)
        #expect(BusAddress.session(environment: [:], socketExists: { _ in true }) == nil)
        #expect(BusAddress.system(environment: [:]) == "unix:path=/run/dbus/system_bus_socket")
    }
}
