import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Testing

@testable import CreddCredentialsFile

@Suite("Credentials file writer failures")
struct WriterFailureTests {
    static let original = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\n[dev]\n# managed by credd\naws_access_key_id = ASIAOLD\n"

    func writer(_ directory: TemporaryDirectory, system: SystemCalls = .live) -> CredentialsFileWriter {
        CredentialsFileWriter(path: directory.path + "/credentials", clock: Fixtures.clock, configuration: .init(), system: system)
    }

    @Test("a file that is not UTF-8 is left alone and the error names the line")
    func invalidUTF8() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let bytes = Array("[default]\nx = 1\n".utf8) + [0xFF] + Array("\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/credentials"))
        do {
            try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason == .invalidUTF8)
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("\(directory.path)/credentials:3: "))
        }
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: directory.path + "/credentials"))) == bytes)
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        let text: String
        let reason: CredentialsFileError.Reason
        let line: Int
        var testDescription: String { "\(reason) at line \(line)" }
    }

    @Test(
        "a duplicated or malformed managed section is refused with its line; nothing changes",
        arguments: [
            MalformedCase(text: "[dev]\n# managed by credd\nx = 1\n\n[dev]\n# managed by credd\n", reason: .duplicateSection, line: 5),
            MalformedCase(text: "[dev]\n# managed by credd\nx = 1\nX = 2\n", reason: .malformedSection, line: 4),
            MalformedCase(text: "[dev]\n# managed by credd\nnot an entry\n", reason: .malformedSection, line: 3),
        ])
    func malformedSection(malformed: MalformedCase) throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", malformed.text, mode: nil)
        let outcomes = try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a")), .remove(section: "dev")])
        #expect(outcomes.map(\.failure?.reason) == [malformed.reason, malformed.reason])
        #expect(outcomes.map(\.failure?.line) == [malformed.line, malformed.line])
        #expect(try directory.read("credentials") == malformed.text)
    }

    @Test("problems elsewhere in the file do not block credd's own sections")
    func problemsElsewhere() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let text = "[other]\na = 1\na = 2\n\n[dev]\n# managed by credd\nx = 1\n"
        try directory.write("credentials", text, mode: nil)
        let outcomes = try writer(directory).apply([.remove(section: "dev")])
        #expect(outcomes.map(\.change) == [.removed])
        #expect(try directory.read("credentials") == "[other]\na = 1\na = 2\n")
    }

    @Test("a removal that would fold the user's indented header into the section before it is refused")
    func removalThatChangesTheNextSection() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        // After [gone]'s marker the indented header is a header; after [user]'s key it would
        // continue that key's value, as botocore reads it.
        let text = "[user]\nregion = eu-west-1\n\n[gone]\n# managed by credd\n  [work]\nregion = us-east-1\n"
        try directory.write("credentials", text, mode: nil)
        let outcomes = try writer(directory).apply([.remove(section: "gone")])
        #expect(outcomes.first?.failure?.reason == .wouldChangeNextSection)
        #expect(outcomes.first?.failure?.line == 4)
        #expect(try directory.read("credentials") == text)
    }

    @Test("a failed write (disk full) leaves the original intact and no temp file behind")
    func diskFull() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        var system = SystemCalls.live
        system.write = { _, _, _ in
            errno = ENOSPC
            return -1
        }
        do {
            try writer(directory, system: system).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason == .writeFailed)
            #expect(error.systemError == String(cString: strerror(ENOSPC)))
            #expect(error.description.contains("\(directory.path)/credentials"))
            #expect(!error.description.contains("FAKE-"))
        }
        #expect(try directory.read("credentials") == Self.original)
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    @Test("a short write is continued, a failing fsync aborts before the rename")
    func partialWritesAndFsync() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        var trickle = SystemCalls.live
        trickle.write = { descriptor, buffer, count in Glibc.write(descriptor, buffer, min(count, 7)) }
        try writer(directory, system: trickle).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        #expect(try directory.read("credentials").contains("FAKE-TOKEN-a"))

        var failingSync = SystemCalls.live
        failingSync.fsync = { _ in
            errno = EIO
            return -1
        }
        #expect(throws: CredentialsFileError.self) {
            try writer(directory, system: failingSync).apply([.write(section: "dev", credentials: Fixtures.session("b"))])
        }
        #expect(try directory.read("credentials").contains("FAKE-TOKEN-a"))
        #expect(try directory.contents() == ["credentials", "credentials.lock"])
    }

    @Test("a read-only directory fails cleanly", .disabled(if: getuid() == 0, "root ignores directory permissions"))
    func readOnlyDirectory() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        try directory.write("credentials.lock", "", mode: nil)
        #expect(chmod(directory.path, 0o500) == 0)
        #expect(throws: CredentialsFileError.self) {
            try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))])
        }
        #expect(try directory.read("credentials") == Self.original)
    }

    struct RefusalCase: Sendable, CustomTestStringConvertible {
        let label: String
        let credentials: AWSCredentials
        let reason: CredentialsFileError.Reason
        var testDescription: String { label }
    }

    @Test(
        "incomplete or expired credentials are never written; the error holds no secret",
        arguments: [
            RefusalCase(
                label: "no token",
                credentials: AWSCredentials(
                    accessKeyId: "ASIAX", secretAccessKey: Secret("FAKE-SECRET-1"), sessionToken: nil,
                    expiration: Fixtures.now.addingTimeInterval(3600)), reason: .incompleteCredentials),
            RefusalCase(
                label: "empty secret",
                credentials: AWSCredentials(
                    accessKeyId: "ASIAX", secretAccessKey: Secret(""), sessionToken: Secret("FAKE-TOKEN-2"),
                    expiration: Fixtures.now.addingTimeInterval(3600)), reason: .incompleteCredentials),
            RefusalCase(
                label: "no expiry",
                credentials: AWSCredentials(
                    accessKeyId: "ASIAX", secretAccessKey: Secret("FAKE-SECRET-3"), sessionToken: Secret("FAKE-TOKEN-3"), expiration: nil),
                reason: .incompleteCredentials),
            RefusalCase(label: "expired", credentials: Fixtures.session("expired", validFor: -1), reason: .expiredCredentials),
            RefusalCase(label: "expires now", credentials: Fixtures.session("now", validFor: 0), reason: .expiredCredentials),
            RefusalCase(
                label: "token with a line break",
                credentials: AWSCredentials(
                    accessKeyId: "ASIAX", secretAccessKey: Secret("FAKE-SECRET-5"), sessionToken: Secret("FAKE-TOKEN-5\n[evil]"),
                    expiration: Fixtures.now.addingTimeInterval(3600)), reason: .unwritableValue),
        ])
    func refusedCredentials(refusal: RefusalCase) throws {
        let (label, credentials, reason) = (refusal.label, refusal.credentials, refusal.reason)
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try directory.write("credentials", Self.original, mode: nil)
        let outcomes = try writer(directory).apply([
            .write(section: "dev", credentials: credentials), .write(section: "new", credentials: credentials),
        ])
        for outcome in outcomes {
            let error = try #require(outcome.failure, "\(label)")
            #expect(error.reason == reason)
            #expect(!error.description.contains("FAKE-"), "\(error)")
            #expect(!error.message.contains("FAKE-"))
        }
        #expect(try directory.read("credentials") == Self.original)
    }

    @Test("a path that is a directory, or under a file, fails with the file named")
    func unusablePaths() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path + "/credentials", withIntermediateDirectories: true)
        #expect(throws: CredentialsFileError.self) { try writer(directory).apply([.write(section: "dev", credentials: Fixtures.session("a"))]) }
        try directory.write("plain-file", "", mode: nil)
        let underFile = CredentialsFileWriter(path: directory.path + "/plain-file/credentials", clock: Fixtures.clock)
        do {
            try underFile.apply([.write(section: "dev", credentials: Fixtures.session("a"))])
            Issue.record("expected a failure")
        } catch {
            #expect(error.file.hasPrefix(directory.path + "/plain-file"))
            #expect(error.systemError != nil || error.message.contains("not a directory"))
        }
    }

    @Test("section names that cannot be a header are refused")
    func badSectionName() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let outcomes = try writer(directory).apply([.write(section: "a]b", credentials: Fixtures.session("a"))])
        #expect(outcomes.first?.failure?.reason == .unwritableValue)
        #expect(fileStatus(directory.path + "/credentials") == nil)
    }
}
