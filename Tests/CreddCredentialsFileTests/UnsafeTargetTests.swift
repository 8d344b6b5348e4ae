import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

@testable import CreddCredentialsFile

/// The writer opens only regular files, never blocks on one that is not, never replaces
/// another user's file, and never deletes a file it did not create.
@Suite("Credentials file writer: unsafe targets")
struct UnsafeTargetTests {
    static let userFile = "[shared]\naws_access_key_id = AKIASHAREDEXAMPLE00\naws_secret_access_key = shared-secret-of-another-user\n"

    /// Runs `body` on a thread of its own and waits at most `seconds` for it, so that a writer
    /// blocked in `open(2)` fails the test instead of hanging it. `release` unblocks it.
    func bounded<T: Sendable>(seconds: Int = 10, release: () -> Void, _ body: @escaping @Sendable () -> T) -> T? {
        let result = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let value = body()
            result.value.withLock { $0 = value }
            done.signal()
        }
        if done.wait(timeout: .now() + .seconds(seconds)) == .timedOut {
            Issue.record("the writer was still blocked after \(seconds) s")
            release()
            done.wait()
            return nil
        }
        return result.value.withLock { $0 }
    }

    /// Opens and closes the FIFO's write end, waking a reader blocked in `open`.
    func release(_ fifo: String) {
        let descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
        if descriptor >= 0 { close(descriptor) }
    }

    @Test("a FIFO at the credentials path or its lock is refused at once, by name, and stays a FIFO", arguments: ["credentials", "credentials.lock"])
    func fifo(name: String) throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer-fifo")
        let fifo = directory.file(name)
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: Fixtures.clock)
        let started = ContinuousClock.now
        let outcome = bounded(
            release: { release(fifo) },
            { () -> Result<[SectionOutcome], CredentialsFileError> in
                Result { () throws(CredentialsFileError) in try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))]) }
            })
        #expect(ContinuousClock.now - started < .seconds(5))
        guard case let .failure(error)? = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect(error.reason == .notRegularFile)
        #expect(error.file == fifo)
        #expect(error.description.hasPrefix("\(fifo): is a FIFO, not a regular file;"))
        #expect(fileStatus(fifo).map { $0.st_mode & S_IFMT == S_IFIFO } == true)
        #expect(try directory.contents().allSatisfy { !$0.hasSuffix(".tmp") })
        if name == "credentials" {
            let owned = bounded(
                release: { release(fifo) },
                { () -> CredentialsFileError? in
                    do throws(CredentialsFileError) {
                        _ = try writer.ownedSections()
                        return nil
                    } catch { return error }
                })
            #expect(owned??.reason == .notRegularFile)
        }
    }

    @Test("a directory at the credentials path is refused by name and left as it was")
    func directoryTarget() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer-dir")
        try directory.write("credentials/keep", "mine")
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: Fixtures.clock)
        #expect(
            throws: CredentialsFileError(
                reason: .notRegularFile, file: directory.file("credentials"),
                message:
                    "is a directory, not a regular file; credd reads and replaces only regular files: move it away or set credentials_file; nothing was written"
            )
        ) {
            try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        }
        #expect(try directory.read("credentials/keep") == "mine")
    }

    @Test(
        "a symlink to another user's file is refused; the file keeps its bytes, owner and mode",
        .enabled(if: geteuid() == 0, "needs root to give a file to another uid (chown); run the suite as root to cover it"))
    func foreignSymlinkTarget() throws {
        let home = try TemporaryDirectory(prefix: "credd-writer-home")
        let shared = try TemporaryDirectory(prefix: "credd-writer-shared")
        chmod(shared.path, 0o777)
        let target = try shared.write("shared-credentials", Self.userFile, mode: 0o664)
        let otherUser: uid_t = 65_534
        #expect(chown(target, otherUser, otherUser) == 0)
        let before = try #require(fileStatus(target))
        try FileManager.default.createDirectory(atPath: home.file(".aws"), withIntermediateDirectories: true)
        #expect(symlink(target, home.file(".aws/credentials")) == 0)

        let writer = CredentialsFileWriter(path: home.file(".aws/credentials"), clock: Fixtures.clock)
        do {
            try writer.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.reason == .ownedByAnotherUser)
            #expect(error.file == target)
            #expect(
                error.description.contains("belongs to uid 65534, not to credd's user (uid 0) (\(home.file(".aws/credentials")) is a symlink to it)"))
            #expect(!error.description.contains("shared-secret"))
        }
        let after = try #require(fileStatus(target))
        #expect(try shared.read("shared-credentials") == Self.userFile)
        #expect(after.st_uid == otherUser && after.st_gid == otherUser && after.st_mode == before.st_mode && after.st_ino == before.st_ino)
        // Not even a lock or temp file was left beside the other user's file.
        #expect(try shared.contents() == ["shared-credentials"])
    }

    @Test("a temp file replaced by someone else's file before credd removes it is left alone")
    func replacedTemporaryFile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer-replaced")
        let path = directory.file(".credentials.credd-1-abcd.tmp")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(descriptor >= 0)
        TemporaryFiles.created(path, descriptor: descriptor)
        close(descriptor)
        #expect(unlink(path) == 0)
        try directory.write(".credentials.credd-1-abcd.tmp", "the user's own\n")
        TemporaryFiles.remove(path)
        #expect(try directory.read(".credentials.credd-1-abcd.tmp") == "the user's own\n")
    }

    @Test("a user's file named like credd's temp files is never deleted")
    func lookalikeTemporaryFile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer-lookalike")
        let lookalikes = [".credentials.credd-\(getpid())-0123abcd.tmp", ".credentials.credd-1-ffff.tmp"]
        for name in lookalikes { try directory.write(name, "my notes \(name)\n") }
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: Fixtures.clock)
        for round in 0..<3 {
            try writer.apply([.write(section: "dev", credentials: Fixtures.session("r\(round)"))])
        }
        for name in lookalikes { #expect(try directory.read(name) == "my notes \(name)\n") }
        #expect(try directory.contents() == (["credentials", "credentials.lock"] + lookalikes).sorted())
    }
}

/// A value handed back from another thread.
final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
