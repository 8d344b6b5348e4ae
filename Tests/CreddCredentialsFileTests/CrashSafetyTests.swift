import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Testing
import CreddCredentialsFile

/// The crash test's child: re-runs this test binary with `CREDD_CRASH_CHILD_FILE` set, so
/// this "test" rewrites that file in a loop until it is killed. In a normal run the variable
/// is unset and it returns at once.
@Suite("Crash test child")
struct CrashChild {
    static let environmentKey = "CREDD_CRASH_CHILD_FILE"
    static let filter = "CreddCredentialsFileTests.CrashChild/rewriteLoop"

    @Test("child entry point of the crash test (no-op in a normal run)")
    func rewriteLoop() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.environmentKey] else { return }
        let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
        // Bounded: the parent kills the child long before this ends.
        for round in 0..<1_000_000 {
            try writer.apply([
                .write(section: "dev", credentials: Fixtures.session("dev\(round)")),
                .write(section: "prod", credentials: Fixtures.session("prod\(round)")),
            ])
        }
    }
}

@Suite("Crash safety")
struct CrashSafetyTests {
    static let userPart = "; hand-written, must survive\r\n[default]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\n\r\n"

    /// The only two shapes the file may have: the original, or a complete rewrite of a round.
    static func expected(round: String?) -> String {
        guard let round else { return userPart + Fixtures.managedSection("dev", "old") }
        return userPart + Fixtures.managedSection("dev", "dev\(round)") + "\n" + Fixtures.managedSection("prod", "prod\(round)")
    }

    @Test("a writer killed with SIGKILL at random moments leaves the old or the new file, never a mix", .timeLimit(.minutes(5)))
    func killedWriterLeavesCompleteFile() async throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let path = directory.path + "/credentials"
        let initial = Self.userPart + Fixtures.managedSection("dev", "old")
        try directory.write("credentials", initial, mode: nil)
        let binary = try #require(ProcessInfo.processInfo.arguments.first)
        var rewritesSeen = 0
        var killsMidWrite = 0

        for kill in 0..<500 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: binary)
            child.arguments = ["--testing-library", "swift-testing", "--filter", CrashChild.filter]
            child.environment = ProcessInfo.processInfo.environment.merging([CrashChild.environmentKey: path]) { _, new in new }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            let inodeBefore = fileStatus(path)?.st_ino
            try child.run()
            // Kill inside the write loop whatever the machine's load: wait for the child's first
            // rename (a new inode), then let it run a few more writes, each a few milliseconds.
            var waited = 0
            while fileStatus(path)?.st_ino == inodeBefore, waited < 30_000 {
                try await Task.sleep(for: .milliseconds(1))
                waited += 1
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...10_000)))
            Glibc.kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()

            if try directory.contents().contains(where: { $0.hasSuffix(".tmp") }) { killsMidWrite += 1 }
            let text = try directory.read("credentials")
            let round = text.firstMatch(of: /aws_session_token = FAKE-TOKEN-dev([0-9]+)/).map { String($0.1) }
            if text == initial {
                continue
            }
            rewritesSeen += 1
            #expect(text == Self.expected(round: round), "kill \(kill): the file is neither the old nor a complete new version")
            if text != Self.expected(round: round) { break }
        }
        // The kills must have hit running writers, many of them between creating the temp file
        // and the rename.
        #expect(rewritesSeen > 0)
        #expect(killsMidWrite > 0)
        // Temp files killed writers left behind stay: credd deletes only what it created in
        // this process, since a file merely named like one may be the user's (`credd check`
        // lists them). The next write still succeeds and leaves none of its own.
        let leftovers = try directory.contents().filter { $0.hasSuffix(".tmp") }
        try CredentialsFileWriter(path: path, clock: Fixtures.clock).apply([.write(section: "dev", credentials: Fixtures.session("final"))])
        #expect(try directory.contents() == (["credentials", "credentials.lock"] + leftovers).sorted())
    }
}
