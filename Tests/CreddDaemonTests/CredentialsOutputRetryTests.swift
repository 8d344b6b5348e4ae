import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddRefresh
import CreddTestSupport
import Foundation
import Glibc
import Logging
import Testing

@testable import CreddDaemon

/// A rewrite that fails as a whole is not the end of it: the credentials would otherwise stay
/// unwritten until the next renewal, after the file's copy expired.
@Suite("Credentials file output retries")
struct CredentialsOutputRetryTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func credentials(_ tag: String) -> AWSCredentials {
        AWSCredentials(
            accessKeyId: "ASIA\(tag.uppercased())RETRYEXAMPLE",
            secretAccessKey: Secret("retry-secret-\(tag)-not-real"),
            sessionToken: Secret("retry-token-\(tag)-not-real"),
            expiration: now.addingTimeInterval(3600))
    }

    struct Setup {
        let home: TemporaryDirectory
        let clock: ManualWallClock
        let profiles: ProfileDirectory
        let output: CredentialsOutput
        /// Runs the output's retries.
        let running: Task<Void, Never>
        var credentialsFile: String { home.file(".aws/credentials") }

        func end() {
            running.cancel()
            home.remove()
        }
    }

    static func makeOutput() throws -> Setup {
        let (home, configuration) = try makeRoleProfilesHome(prefix: "credd-output-retry", roles: ["dev": "Developer", "ops": "Operator"])
        let clock = ManualWallClock(now)
        let profiles = ProfileDirectory(configuration)
        let output = CredentialsOutput(
            profiles: profiles, wallClock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            writerConfiguration: .init(lockTimeout: .milliseconds(20)))
        return Setup(home: home, clock: clock, profiles: profiles, output: output, running: Task { await output.run() })
    }

    /// Holds credd's lock on the file as another credd would, until `release`.
    final class HeldLock {
        private let descriptor: Int32

        init(_ file: String) throws {
            descriptor = open(file + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            try #require(descriptor >= 0)
            try #require(flock(descriptor, LOCK_EX) == 0)
        }

        func release() { close(descriptor) }
    }

    /// Waits until the retry sleeps until `deadline`.
    static func waitForRetry(at deadline: Date, on clock: ManualWallClock) async throws {
        try await eventually("a retry at \(deadline)", on: clock.changes) { clock.firstSleeper == deadline }
    }

    @Test("a rewrite refused by a held lock is retried after 1 s, then 2 s, until it succeeds")
    func retriedWithBackoff() async throws {
        let setup = try Self.makeOutput()
        defer { setup.end() }
        let lock = try HeldLock(setup.credentialsFile)
        await setup.output.apply([.published(profile: "dev", credentials: Self.credentials("a"))])
        let error = try #require(setup.profiles.writeError(for: "dev"))
        #expect(error.contains("another process has held the lock"))
        #expect(!error.contains("retry-secret") && !error.contains("retry-token"))

        try await Self.waitForRetry(at: Self.now.addingTimeInterval(1), on: setup.clock)
        setup.clock.advance(by: 1)
        try await Self.waitForRetry(at: Self.now.addingTimeInterval(3), on: setup.clock)
        #expect(try !setup.home.read(".aws/credentials").contains("ASIAARETRYEXAMPLE"))

        lock.release()
        setup.clock.advance(by: 2)
        try await eventually("the retried rewrite") { try setup.home.read(".aws/credentials").contains("ASIAARETRYEXAMPLE") }
        try await eventually("the write error cleared") { setup.profiles.writeError(for: "dev") == nil }
    }

    @Test("the next rewrite carries what failed, and a newer update of the same section wins")
    func laterBatchCarriesUnwritten() async throws {
        let setup = try Self.makeOutput()
        defer { setup.end() }
        let lock = try HeldLock(setup.credentialsFile)
        await setup.output.apply([.published(profile: "dev", credentials: Self.credentials("a"))])
        await setup.output.apply([.published(profile: "ops", credentials: Self.credentials("b"))])
        #expect(setup.profiles.writeError(for: "dev") != nil && setup.profiles.writeError(for: "ops") != nil)
        lock.release()

        await setup.output.apply([.published(profile: "ops", credentials: Self.credentials("c"))])
        let file = try setup.home.read(".aws/credentials")
        #expect(file.contains("[dev]") && file.contains("ASIAARETRYEXAMPLE"))
        #expect(file.contains("[ops]") && file.contains("ASIACRETRYEXAMPLE"))
        #expect(!file.contains("ASIABRETRYEXAMPLE"))
        #expect(setup.profiles.writeError(for: "dev") == nil && setup.profiles.writeError(for: "ops") == nil)
    }
}
