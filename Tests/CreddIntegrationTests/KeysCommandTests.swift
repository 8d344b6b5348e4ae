import CreddTestSupport
import Foundation
import Testing

/// `credd keys` against a real Secret Service: gnome-keyring-daemon on a private session bus.
@Suite(.serialized, .enabled(if: PrivateBus.isAvailable && PrivateBus.hasKeyring, "needs dbus-daemon and gnome-keyring (scripts/install-deps)"))
struct KeysCommandTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYKEYSEXAMPLE"

    @Test func addListRemoveWithoutASecretInOutputOrArguments() throws {
        let bus = try PrivateBus()
        let keyringHome = try TemporaryDirectory(prefix: "credd-keyring")
        let keyring = try bus.startKeyring(home: keyringHome)
        defer { keyring.signal(SIGTERM) }
        let harness = try CreddHarness(stsEndpoint: nil)
        let environment = harness.environment.merging(["DBUS_SESSION_BUS_ADDRESS": bus.address]) { $1 }
        func credd(_ arguments: [String], stdin: String? = nil) throws -> ChildProcess.Output {
            try ChildProcess.run([CreddHarness.binary] + arguments, environment: environment, stdin: stdin)
        }

        let added = try credd(["keys", "add", "alice-long-term"], stdin: "AKIAIOSFODNN7EXAMPLE\n \(Self.secret) \n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout == "stored the keys of alice-long-term (AKIAIOSFODNN7EXAMPLE) in the keyring\n")
        // A second add replaces the first.
        #expect(try credd(["keys", "add", "alice-long-term"], stdin: "AKIAI44QH8DHBEXAMPLE\n\(Self.secret)\n").status == 0)
        #expect(try credd(["keys", "add", "bob"], stdin: "AKIAIOSFODNN7EXAMPLE\n\(Self.secret)\n").status == 0)
        let listed = try credd(["keys", "list"])
        #expect(listed.stdout == "alice-long-term  AKIAI44QH8DHBEXAMPLE\nbob  AKIAIOSFODNN7EXAMPLE\n", "\(listed.stdout)\(listed.stderr)")

        #expect(try credd(["keys", "remove", "bob"]).stdout == "removed the keys of bob from the keyring\n")
        let again = try credd(["keys", "remove", "bob"])
        #expect(again.status == 1 && again.stderr == "credd: the keyring holds no keys of bob\n")
        #expect(try credd(["keys", "list"]).stdout == "alice-long-term  AKIAI44QH8DHBEXAMPLE\n")

        let empty = try credd(["keys", "add", "carol"], stdin: "AKIAIOSFODNN7EXAMPLE\n")
        #expect(empty.status == 1 && empty.stderr.contains("no keys read"))
        for output in [added, listed, again, empty] {
            #expect(!(output.stdout + output.stderr).contains(Self.secret))
        }
    }

    @Test func withoutASessionBusOrKeyringItSaysWhy() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        let noBus = try harness.cli(["keys", "list"])
        #expect(noBus.status == 1 && noBus.stderr.contains("no session bus"), "\(noBus.stderr)")

        let bus = try PrivateBus()
        let noKeyring = try ChildProcess.run(
            [CreddHarness.binary, "keys", "list"], environment: harness.environment.merging(["DBUS_SESSION_BUS_ADDRESS": bus.address]) { $1 })
        #expect(noKeyring.status == 1 && noKeyring.stderr.contains("no Secret Service on the session bus"), "\(noKeyring.stderr)")
    }
}
