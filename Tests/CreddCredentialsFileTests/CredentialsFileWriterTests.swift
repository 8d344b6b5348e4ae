import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Testing

@testable import CreddCredentialsFile

@Suite("Credentials file writer")
struct CredentialsFileWriterTests {
    /// A hand-kept file with every quirk; credd must leave all of it alone.
    static let userFile =
        "; my credentials\r\n[default]\r\naws_access_key_id=AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY   \r\n\r\n# work\n[work]\n\tregion: eu-west-1 # not a comment\ns3 =\n  addressing_style = path\n\n[dev]\n# managed by credd\naws_access_key_id = ASIAOLDEXAMPLE\naws_secret_access_key = FAKE-SECRET-old\naws_session_token = FAKE-TOKEN-old\naws_security_token = FAKE-TOKEN-old\nx_security_token_expires = 2020-01-01T00:00:00Z\nregion = us-east-1\n\n; trailing comment without newline"

    func writer(_ directory: TemporaryDirectory, _ name: String = "credentials", lockTimeout: Duration = .seconds(10)) -> CredentialsFileWriter {
        CredentialsFileWriter(path: directory.path + "/" + name, clock: Fixtures.clock, configuration: .init(lockTimeout: lockTimeout))
    }

    @Test("creates the directory (0700) and the file (0600) when missing")
    func createsFile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let writer = CredentialsFileWriter(path: directory.path + "/home/.aws/credentials", clock: Fixtures.clock)
        let outcomes = try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(outcomes.map(\.change) == [.created])
        #expect(try directory.read("home/.aws/credentials") == Fixtures.managedSection("dev", "a"))
        #expect(fileStatus(directory.path + "/home/.aws").map { $0.st_mode & 0o777 } == 0o700)
        #expect(fileStatus(directory.path + "/home/.aws/credentials").map { $0.st_mode & 0o777 } == 0o600)
        #expect(fileStatus(directory.path + "/home/.aws/credentials.lock").map { $0.st_mode & 0o777 } == 0o600)
    }

    @Test("only the managed section changes: every other byte, CRLF and the missing final newline stay")
    func editIsLocal() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let outcomes = try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("new"))])
        #expect(outcomes.map(\.change) == [.updated])
        let expected = Self.userFile
            .replacingOccurrences(of: "ASIAOLDEXAMPLE", with: "ASIANEWEXAMPLE")
            .replacingOccurrences(of: "FAKE-SECRET-old", with: "FAKE-SECRET-new")
            .replacingOccurrences(of: "FAKE-TOKEN-old", with: "FAKE-TOKEN-new")
            .replacingOccurrences(of: "2020-01-01T00:00:00Z", with: AWSTimestamp.format(Fixtures.now.addingTimeInterval(3600)))
        #expect(try directory.read("credentials") == expected)
    }

    @Test("a new section is appended in the file's line ending, leaving the rest identical")
    func appendKeepsRest() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let crlf = "[default]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\n"
        try directory.write("credentials", crlf, mode: nil)
        try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        let written = try directory.read("credentials")
        #expect(written.hasPrefix(crlf + "\r\n[dev]\r\n# managed by credd\r\n"))
        #expect(written == crlf + "\r\n" + Fixtures.managedSection("dev", "a").replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test("a section credd does not own is refused with file, line and section; the other updates apply")
    func refusesUnowned() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let outcomes = try writer(directory).apply([
            .write(section: "work", credentials: Fixtures.session("x")),
            .write(section: "staging", credentials: Fixtures.session("s")),
            .remove(section: "default"),
        ])
        let refusal = try #require(outcomes[0].failure)
        #expect(refusal.reason == .notOwned)
        #expect(refusal.line == 7)
        #expect(refusal.section == "work")
        #expect(refusal.description.hasPrefix("\(directory.path)/credentials:7: [work] the section exists and was not written by credd"))
        #expect(outcomes[1].change == .created)
        #expect(outcomes[2].failure?.reason == .notOwned)
        #expect(outcomes[2].failure?.line == 2)
        let written = try directory.read("credentials")
        #expect(written.hasPrefix(Self.userFile))
        #expect(written == Self.userFile + "\n\n" + Fixtures.managedSection("staging", "s").dropLast())
    }

    @Test("several updates are one rewrite: one temp file, one rename")
    func batchIsOneRewrite() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let inodeBefore = try #require(fileStatus(directory.path + "/credentials")).st_ino
        let fsyncs = CallCounter()
        var system = SystemCalls.live
        system.fsync = { descriptor in
            fsyncs.increment()
            return Glibc.fsync(descriptor)
        }
        let writer = CredentialsFileWriter(path: directory.path + "/credentials", clock: Fixtures.clock, configuration: .init(), system: system)
        let outcomes = try writer.apply([
            .write(section: "dev", credentials: Fixtures.session("d")),
            .write(section: "prod", credentials: Fixtures.session("p")),
            .write(section: "qa", credentials: Fixtures.session("q")),
        ])
        #expect(outcomes.map(\.change) == [.updated, .created, .created])
        // One fsync of the temp file and one of the directory: a single rewrite.
        #expect(fsyncs.value == 2)
        #expect(try #require(fileStatus(directory.path + "/credentials")).st_ino != inodeBefore)
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
        #expect(try writer.ownedSections() == ["dev", "prod", "qa"])
    }

    @Test("writing the same credentials again does not rewrite the file")
    func unchangedIsNoWrite() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let writer = writer(directory)
        try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        let inode = try #require(fileStatus(directory.path + "/credentials")).st_ino
        let outcomes = try writer.apply([.write(section: "dev", credentials: Fixtures.session("a")), .remove(section: "gone")])
        #expect(outcomes.map(\.change) == [.unchanged, .absent])
        #expect(try #require(fileStatus(directory.path + "/credentials")).st_ino == inode)
    }

    @Test("owned sections can be listed and removed; the rest stays")
    func removal() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let writer = writer(directory)
        #expect(try writer.ownedSections() == ["dev"])
        let outcomes = try writer.apply([.remove(section: "dev")])
        #expect(outcomes.map(\.change) == [.removed])
        let withoutDev = Self.userFile.replacingOccurrences(
            of:
                "[dev]\n# managed by credd\naws_access_key_id = ASIAOLDEXAMPLE\naws_secret_access_key = FAKE-SECRET-old\naws_session_token = FAKE-TOKEN-old\naws_security_token = FAKE-TOKEN-old\nx_security_token_expires = 2020-01-01T00:00:00Z\nregion = us-east-1\n\n",
            with: ""
        )
        #expect(try directory.read("credentials") == withoutDev)
        #expect(try writer.ownedSections() == [])
        #expect(try CredentialsFileWriter(path: directory.path + "/absent", clock: Fixtures.clock).ownedSections() == [])
    }

    @Test("a symlinked file is written through to its target; the link stays a link")
    func symlinkWrittenThrough() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/dotfiles", withIntermediateDirectories: true)
        try directory.write("dotfiles/aws-credentials", "[default]\nregion = x\n", mode: nil)
        // A relative link, through a second link.
        #expect(symlink("dotfiles/aws-credentials", directory.path + "/middle") == 0)
        #expect(symlink(directory.path + "/middle", directory.path + "/credentials") == 0)
        try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(try directory.read("dotfiles/aws-credentials") == "[default]\nregion = x\n\n" + Fixtures.managedSection("dev", "a"))
        #expect(fileStatus(directory.path + "/credentials").map { $0.st_mode & S_IFMT } == S_IFLNK)
        #expect(fileStatus(directory.path + "/middle").map { $0.st_mode & S_IFMT } == S_IFLNK)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path + "/dotfiles").sorted() == ["aws-credentials", "aws-credentials.lock"])
    }

    @Test("a dangling symlink's target is created; a symlink loop is an error")
    func danglingAndLoop() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        #expect(symlink("real", directory.path + "/credentials") == 0)
        try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(try directory.read("real") == Fixtures.managedSection("dev", "a"))

        #expect(symlink("loop-b", directory.path + "/loop-a") == 0)
        #expect(symlink("loop-a", directory.path + "/loop-b") == 0)
        #expect(throws: CredentialsFileError.self) {
            try writer(directory, "loop-a").apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        }
    }

    @Test("the new file is 0600 even when the old one was readable by others")
    func modeIsTightened() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", "[default]\n", mode: nil)
        #expect(chmod(directory.path + "/credentials", 0o644) == 0)
        try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(fileStatus(directory.path + "/credentials").map { $0.st_mode & 0o777 } == 0o600)
    }

    @Test("a writer waits for the lock and gives up after its timeout, writing nothing")
    func lockTimesOut() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let holder = open(directory.path + "/credentials.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        do {
            try writer(directory, lockTimeout: .milliseconds(200)).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("the writer ignored the lock")
        } catch {
            #expect(error.reason == .lockTimedOut)
            #expect(error.file == directory.path + "/credentials.lock")
        }
        #expect(try directory.read("credentials") == Self.userFile)
    }

    @Test("a writer blocked by the lock proceeds once it is released")
    func lockIsWaitedFor() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let path = directory.path + "/credentials"
        let holder = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(flock(holder, LOCK_EX) == 0)
        let writtenWhileLocked = CallCounter()
        // A plain thread, not a task: the writer blocks this one, and the release must not wait
        // for a free thread in the cooperative pool.
        let releaser = Thread {
            usleep(100_000)
            if fileStatus(path) != nil { writtenWhileLocked.increment() }
            close(holder)
        }
        releaser.start()
        let outcomes = try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(writtenWhileLocked.value == 0)
        #expect(outcomes.map(\.change) == [.created])
    }

    @Test("two writers sharing the lock never lose each other's updates")
    func concurrentWriters() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.userFile, mode: nil)
        let path = directory.path + "/credentials"
        let failures = CallCounter()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
            for round in 0..<25 {
                let outcome = try? writer.apply([.write(section: "worker\(worker)", credentials: Fixtures.session("w\(worker)r\(round)"))])
                if outcome?.first?.change == nil { failures.increment() }
            }
        }
        #expect(failures.value == 0)
        let written = try directory.read("credentials")
        #expect(written.hasPrefix(Self.userFile))
        #expect(written.contains("aws_session_token = FAKE-TOKEN-w0r24\n"))
        #expect(written.contains("aws_session_token = FAKE-TOKEN-w1r24\n"))
        #expect(Set(try CredentialsFileWriter(path: path, clock: Fixtures.clock).ownedSections()) == ["dev", "worker0", "worker1"])
    }
}
