import CreddBus
import CreddTestSupport
import Foundation
import Testing

/// Against a real Secret Service: gnome-keyring-daemon on a private session bus.
@Suite(.enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct SecretServiceTests {
    static let secret = Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8)
    static let attributes = ["application": "credd", "credd-profile": "alice-long-term", "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"]

    /// Runs `body` with a client of a fresh gnome-keyring on `bus` whose keyrings live in `home`.
    func withKeyring(_ body: (SecretService, TemporaryDirectory, PrivateBus) async throws -> Void) async throws {
        let bus = try PrivateBus()
        let home = try TemporaryDirectory(prefix: "credd-keyring")
        let keyring = try bus.startKeyring(home: home)
        defer { keyring.signal(SIGTERM) }
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let service = SecretService(connection: connection)
        try await body(service, home, bus)
    }

    @Test func storesFindsReadsAndDeletesAnItem() async throws {
        try await withKeyring { service, home, _ in
            let item = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)
            let found = try await service.search(["application": "credd", "credd-profile": "alice-long-term"])
            #expect(found.unlocked == [item] && found.locked.isEmpty)
            #expect(try await service.secret(of: item) == Self.secret)
            #expect(try await service.attributes(of: item).filter { Self.attributes[$0.key] != nil } == Self.attributes)

            // The same attributes replace the item rather than add one.
            let replaced = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Array("new".utf8))
            #expect(try await service.search(["application": "credd"]).unlocked == [replaced])
            #expect(try await service.secret(of: replaced) == Array("new".utf8))

            try await service.delete(replaced)
            #expect(try await service.search(["application": "credd"]).unlocked.isEmpty)
            // Nothing of the secret reached the keyring directory in the clear.
            for file in try FileManager.default.subpathsOfDirectory(atPath: home.path) {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: home.file(file)))) ?? Data()
                #expect(bytes.range(of: Data(Self.secret)) == nil, "\(file)")
            }
        }
    }

    @Test func aLockedCollectionSaysSo() async throws {
        try await withKeyring { service, _, _ in
            let item = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)

            try await service.lock(["/org/freedesktop/secrets/collection/login"])
            let found = try await service.search(["application": "credd"])
            #expect(found.locked == [item] && found.unlocked.isEmpty)
            await #expect(throws: BusError.locked("credd: other")) {
                _ = try await service.store(label: "credd: other", attributes: ["application": "credd"], secret: Self.secret)
            }
        }
    }

    @Test func anUnlockIsHeardAtOnce() async throws {
        try await withKeyring { service, _, bus in
            _ = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)
            try bus.lockKeyring()
            #expect(try await service.search(["application": "credd"]).unlocked.isEmpty)

            // Subscribed after the lock: what is heard is the unlock (a lock says `Locked` true).
            let unlocks = try await service.unlocks()
            let started = ContinuousClock.now
            try bus.unlockKeyring()
            try await within(5, "the unlock signal") {
                for await _ in unlocks { return }
                throw TestSupportError("the signals ended")
            }
            let heard = ContinuousClock.now - started
            #expect(heard < .seconds(2), "heard after \(heard)")
            #expect(try await service.search(["application": "credd"]).locked.isEmpty)
        }
    }

    @Test func unlockingWithoutAPrompterIsDismissedAndChangesNothing() async throws {
        try await withKeyring { service, _, _ in
            _ = try await service.store(label: "credd: alice-long-term", attributes: Self.attributes, secret: Self.secret)
            #expect(try await service.unlockKeys(timeout: .seconds(10)) == .unlocked, "not locked: nothing to ask")

            try await service.lock(["/org/freedesktop/secrets/collection/login"])
            // gnome-keyring answers the prompt as dismissed when it cannot start its prompter,
            // as on a machine without a display.
            #expect(try await service.unlockKeys(timeout: .seconds(10)) == .dismissed)
            #expect(try await service.search(["application": "credd"]).unlocked.isEmpty)
        }
    }

    @Test(arguments: [FakeSecretService.User.unlocks, .dismisses, .ignores])
    func theDesktopsPromptDecides(user: FakeSecretService.User) async throws {
        let bus = try PrivateBus()
        let fake = try FakeSecretService(on: bus, user: user)
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        let service = SecretService(connection: connection)
        let unlocks = try await service.unlocks()

        let outcome = try await service.unlockKeys(timeout: .seconds(2))
        #expect(outcome == (user == .unlocks ? .unlocked : .dismissed))
        // Unlocks what holds credd's locked items, through the service's prompt.
        #expect(fake.calls().starts(with: ["SearchItems", "Unlock /org/freedesktop/secrets/collection/login/1", "Prompt"]), "\(fake.calls())")
        // A prompt nobody answered is withdrawn; one answered is left alone.
        #expect(fake.calls().contains("Dismiss") == (user == .ignores), "\(fake.calls())")
        if user == .unlocks {
            try await within(5, "the unlock signal") {
                for await _ in unlocks { return }
                throw TestSupportError("the signals ended")
            }
            #expect(try await service.unlockKeys(timeout: .seconds(2)) == .unlocked)
            #expect(fake.calls().filter { $0 == "Prompt" }.count == 1, "an unlocked keyring needs no prompt")
        }
    }

    @Test func noSecretServiceIsAMissingService() async throws {
        let bus = try PrivateBus()
        let connection = try await BusConnection.open(address: bus.address)
        defer { connection.close() }
        await #expect(throws: BusError.serviceMissing(SecretService.busName)) {
            _ = try await SecretService(connection: connection).search(["application": "credd"])
        }
    }
}
