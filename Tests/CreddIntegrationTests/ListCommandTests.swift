import CreddTestSupport
import Foundation
import Testing

/// `credd list` from the real binary: without a config, without a daemon, and with one.
@Suite(.serialized)
struct ListCommandTests {
    /// The end-to-end suite's home: profiles mfa (MFA session) and dev (a role chained from it).
    func writeHome(_ harness: CreddHarness) throws {
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort))
    }

    @Test func namesWithoutAConfigPrintNothingAndSucceed() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        let names = try harness.cli(["list", "--names"])
        #expect(names.status == 0)
        #expect(names.stdout.isEmpty && names.stderr.isEmpty, "completion must stay quiet: \(names.stdout)\(names.stderr)")

        let table = try harness.cli(["list"])
        #expect(table.status == 1)
        #expect(table.stderr.contains("no credd config found"), "\(table.stderr)")
    }

    @Test func listWorksWithoutADaemon() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try writeHome(harness)

        let names = try harness.cli(["list", "--names"])
        #expect(names.status == 0)
        #expect(names.stdout == "mfa\ndev\n")

        let table = try harness.cli(["list"])
        #expect(table.status == 0, "\(table.stderr)")
        let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(
            rows == [
                ["PROFILE", "KIND", "SOURCE", "REGION", "STATE"],
                ["mfa", "session", "alice-long-term", "(keys)", "-", "-"],
                ["dev", "role", "mfa", "eu-west-1", "-"],
            ])
        #expect(!table.stdout.contains(DaemonEndToEndTests.longTermSecret) && !table.stderr.contains(DaemonEndToEndTests.longTermSecret))
    }

    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
    func statesComeFromTheRunningDaemon() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try writeHome(harness)
        try harness.start()
        try harness.waitUntil { try harness.cli(["status"]).status == 0 }

        let table = try harness.cli(["list"])
        #expect(table.status == 0, "\(table.stderr)")
        let states = table.stdout.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(states == ["fresh", "fresh"], "\(table.stdout)")
        #expect(try harness.stop() == 0)
        for secret in harness.secretsInHome() + [DaemonEndToEndTests.longTermSecret] {
            #expect(!table.stdout.contains(secret))
        }
    }
}
