import CreddCore
import CreddCredentialsFile
import CreddTestSupport
import Foundation
import Glibc
import Testing

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
        var rewritesSeen = 0
        var killsMidWrite = 0

        for kill in 0..<500 {
            // Kill inside the write loop whatever the machine's load: after the child's first
            // complete write, let it run a few more writes, each a few milliseconds.
            let delay = UInt32.random(in: 0...10_000)
            await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String, delay = delay as UInt32] in
                let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
                // Bounded: the child kills itself long before this ends.
                for round in 0..<1_000_000 {
                    try writer.apply([
                        .write(section: "dev", credentials: Fixtures.session("dev\(round)")),
                        .write(section: "prod", credentials: Fixtures.session("prod\(round)")),
                    ])
                    if round == 0 {
                        Thread.detachNewThread {
                            usleep(delay)
                            Glibc.kill(getpid(), SIGKILL)
                        }
                    }
                }
            }

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
