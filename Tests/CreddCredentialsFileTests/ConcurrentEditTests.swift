import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

@testable import CreddCredentialsFile

/// Another program that ignores credd's lock (an editor, `aws configure`) rewriting the file
/// while credd writes it: its change must survive.
@Suite("Credentials file writer and programs that ignore its lock")
struct ConcurrentEditTests {
    static let original = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n[dev]\n# managed by credd\naws_access_key_id = ASIAOLDEXAMPLE\n"

    /// System calls whose fsync of credd's temp file (not of the directory) first runs
    /// `otherProgram` with the attempt's number, as if that program wrote during credd's write.
    static func interleaving(_ otherProgram: @escaping @Sendable (Int) -> Void) -> (SystemCalls, CallCounter) {
        let attempts = CallCounter()
        var system = SystemCalls.live
        system.fsync = { descriptor in
            var status = stat()
            if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
                attempts.increment()
                otherProgram(attempts.value)
            }
            return Glibc.fsync(descriptor)
        }
        return (system, attempts)
    }

    static func writer(_ directory: TemporaryDirectory, system: SystemCalls) -> CredentialsFileWriter {
        CredentialsFileWriter(path: directory.file("credentials"), clock: Fixtures.clock, configuration: .init(), system: system)
    }

    @Test("a change made during credd's write is kept: credd starts again from it")
    func changeDuringWriteIsKept() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        let edited = Self.original + "\n[added]\nregion = eu-west-1\n"
        let (system, attempts) = Self.interleaving { attempt in
            if attempt == 1 { _ = try? directory.write("credentials", edited, mode: nil) }
        }
        let outcomes = try Self.writer(directory, system: system).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(outcomes.map(\.change) == [.updated])
        #expect(attempts.value == 2)
        #expect(
            try directory.read("credentials") == "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n" + Fixtures.managedSection("dev", "a")
                + "\n[added]\nregion = eu-west-1\n")
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    @Test("a file that changes during every attempt is left as the other program wrote it")
    func changeDuringEveryAttempt() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        let (system, attempts) = Self.interleaving { attempt in
            _ = try? directory.write("credentials", Self.original + "\n[other]\ncounter = \(attempt)\n", mode: nil)
        }
        do {
            try Self.writer(directory, system: system).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason == .changedDuringWrite)
            #expect(error.description.hasPrefix(directory.file("credentials") + ": another program kept changing the file"))
            #expect(!error.description.contains("FAKE-"))
        }
        #expect(attempts.value == CredentialsFileWriter.maximumAttempts)
        #expect(try directory.read("credentials") == Self.original + "\n[other]\ncounter = \(CredentialsFileWriter.maximumAttempts)\n")
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    @Test("a file created by another program during credd's first write is kept")
    func fileCreatedDuringWrite() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let (system, _) = Self.interleaving { attempt in
            if attempt == 1 { _ = try? directory.write("credentials", "[mine]\nregion = eu-west-1\n", mode: nil) }
        }
        try Self.writer(directory, system: system).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(try directory.read("credentials") == "[mine]\nregion = eu-west-1\n\n" + Fixtures.managedSection("dev", "a"))
    }

    @Test("key rotation re-checks the key when the section changed during its write")
    func rotationSeesTheNewerKey() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let keys = "[alice]\naws_access_key_id = AKIAOLDKEYEXAMPLE\naws_secret_access_key = old-secret-not-real\n"
        let handEdited = "[alice]\naws_access_key_id = AKIAHANDEDITEXAMPLE\naws_secret_access_key = hand-secret-not-real\n"
        try directory.write("credentials", keys, mode: nil)
        let (system, attempts) = Self.interleaving { attempt in
            if attempt == 1 { _ = try? directory.write("credentials", handEdited, mode: nil) }
        }
        let newKeys = AWSCredentials(accessKeyId: "AKIANEWKEYEXAMPLE", secretAccessKey: Secret("new-secret-not-real"))
        do {
            try Self.writer(directory, system: system).replaceSourceKeys(inSection: "alice", replacing: "AKIAOLDKEYEXAMPLE", with: newKeys)
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason == .sourceKeysChanged)
            #expect(!error.description.contains("secret-not-real"))
        }
        #expect(attempts.value == 1)
        #expect(try directory.read("credentials") == handEdited)
    }

    @Test("a file another program truncated and still writes is not replaced under it; once closed, it is")
    func fileOpenForWritingIsNotReplaced() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        let path = directory.file("credentials")
        // `cat > credentials`, still typing: truncated, open for writing.
        let typing = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        try #require(typing >= 0)
        let (system, attempts) = Self.interleaving { _ in }
        let writer = Self.writer(directory, system: system)
        do {
            try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason == .beingWritten)
            #expect(error.description.hasPrefix(path + ": another program has the file open for writing"))
        }
        #expect(attempts.value == CredentialsFileWriter.maximumAttempts)
        #expect(try directory.read("credentials").isEmpty)

        // What it writes lands in the file, and credd's next write keeps it.
        let typed = Array(Self.original.utf8)
        #expect(typed.withUnsafeBytes { Glibc.write(typing, $0.baseAddress, $0.count) } == typed.count)
        close(typing)
        let outcomes = try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(outcomes.map(\.change) == [.updated])
        #expect(try directory.read("credentials") == "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n" + Fixtures.managedSection("dev", "a"))
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    @Test("a file another program only reads is written at once")
    func fileOpenForReadingIsWritten() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        let reading = open(directory.file("credentials"), O_RDONLY | O_CLOEXEC)
        try #require(reading >= 0)
        defer { close(reading) }
        let (system, attempts) = Self.interleaving { _ in }
        try Self.writer(directory, system: system).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(attempts.value == 1)
        #expect(try directory.read("credentials").hasSuffix(Fixtures.managedSection("dev", "a")))
    }
}
