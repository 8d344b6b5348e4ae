import CreddCore
import CreddCredentialsFile
import CreddTestSupport
import Foundation
import Glibc
import Testing

@Suite struct SourceKeysWriterTests {
    static let fixtures: [String] = [
        // LF, a comment, another section and a credd-managed one.
        "# my keys\n[default]\nregion = eu-west-1\n\n[alice]\n; long-term\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\nregion = us-east-1\n\n[dev]\n# managed by credd\naws_access_key_id = ASIAX\n",
        // CRLF, no spaces around '=', uppercase key, no trailing newline.
        "[alice]\r\nAWS_ACCESS_KEY_ID=\(Keys.oldId)\r\nmfa_serial = arn:aws:iam::1:mfa/alice\r\naws_secret_access_key=\(Keys.oldSecret)",
        // Indented entries and a nested block after the keys.
        "[alice]\n  aws_access_key_id = \(Keys.oldId)\n  aws_secret_access_key : \(Keys.oldSecret)\n  s3 =\n    max_concurrency = 10\n[other]\nx = 1\n",
    ]

    @Test(arguments: fixtures)
    func replacesOnlyTheTwoKeyLines(original: String) throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        try directory.write("credentials", original, mode: nil)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        #expect(try writer.sourceKeys(inSection: "alice") == Keys.old)

        try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: Keys.new)

        let updated = try directory.read("credentials")
        #expect(try writer.sourceKeys(inSection: "alice") == Keys.new)
        // Split scalars: "\r\n" is one Character, and each line keeps its "\r".
        let before = original.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = updated.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(before.count == after.count)
        let changed = zip(before, after).filter { $0 != $1 }
        #expect(changed.count == 2)
        for (old, new) in changed {
            #expect(old.contains(Keys.oldId) || old.contains(Keys.oldSecret))
            #expect(new.contains(Keys.newId) || new.contains(Keys.newSecret))
            #expect(old.hasSuffix("\r") == new.hasSuffix("\r"))
        }
        #expect(fileMode(directory.file("credentials")) == 0o600)
    }

    @Test func refusesWhenTheSectionWasEditedMeanwhile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        let original = "[alice]\naws_access_key_id = \(Keys.otherId)\naws_secret_access_key = x\n"
        try directory.write("credentials", original, mode: nil)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        let error = #expect(throws: CredentialsFileError.self) {
            try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: Keys.new)
        }
        #expect(error?.reason == .sourceKeysChanged)
        #expect(error?.line == 2)
        #expect(try directory.read("credentials") == original)
        Keys.expectNoSecrets(error?.description ?? "")
    }

    @Test(arguments: [
        ("[bob]\naws_access_key_id = A\naws_secret_access_key = B\n", CredentialsFileError.Reason.sourceKeysMissing),
        ("[alice]\nregion = eu-west-1\n", .sourceKeysMissing),
        ("[alice]\naws_access_key_id = \(Keys.oldId)\n", .sourceKeysMissing),
        ("[alice]\n# managed by credd\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n", .notSourceKeys),
        (
            "[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\naws_session_token = \(Keys.sessionToken)\n",
            .notSourceKeys
        ),
        ("[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n[alice]\nx = 1\n", .duplicateSection),
        (
            "[alice]\naws_access_key_id = \(Keys.oldId)\naws_access_key_id = \(Keys.otherId)\naws_secret_access_key = \(Keys.oldSecret)\n",
            .malformedSection
        ),
        ("[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n  continued\n", .malformedSection),
    ])
    func refusesSectionsThatAreNotPlainLongTermKeys(text: String, reason: CredentialsFileError.Reason) throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        try directory.write("credentials", text, mode: nil)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        let readError = #expect(throws: CredentialsFileError.self) { try writer.sourceKeys(inSection: "alice") }
        #expect(readError?.reason == reason)
        let writeError = #expect(throws: CredentialsFileError.self) {
            try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: Keys.new)
        }
        #expect(writeError?.reason == reason)
        #expect(try directory.read("credentials") == text)
        Keys.expectNoSecrets("\(readError.map(String.init(describing:)) ?? "") \(writeError.map(String.init(describing:)) ?? "")")
    }

    @Test func missingFile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        let error = #expect(throws: CredentialsFileError.self) {
            try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: Keys.new)
        }
        #expect(error?.reason == .sourceKeysMissing)
        #expect(!FileManager.default.fileExists(atPath: directory.file("credentials")))
    }

    @Test(arguments: [
        Keys.session, AWSCredentials(accessKeyId: "", secretAccessKey: Secret("x")),
        AWSCredentials(accessKeyId: Keys.newId, secretAccessKey: Secret("")),
    ])
    func refusesToWriteAnythingButLongTermKeys(keys: AWSCredentials) throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        let original = "[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n"
        try directory.write("credentials", original, mode: nil)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        let error = #expect(throws: CredentialsFileError.self) { try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: keys) }
        let allowed: [CredentialsFileError.Reason?] = [.notSourceKeys, .incompleteCredentials]
        #expect(allowed.contains(error?.reason))
        #expect(try directory.read("credentials") == original)
    }

    @Test func writesThroughASymlink() throws {
        let directory = try TemporaryDirectory(prefix: "credd-rotation")
        let target = directory.path + "/real-credentials"
        try Data("[alice]\naws_access_key_id = \(Keys.oldId)\naws_secret_access_key = \(Keys.oldSecret)\n".utf8).write(
            to: URL(fileURLWithPath: target))
        #expect(symlink(target, directory.file("credentials")) == 0)
        let writer = CredentialsFileWriter(path: directory.file("credentials"), clock: ManualWallClock(Keys.now))
        try writer.replaceSourceKeys(inSection: "alice", replacing: Keys.oldId, with: Keys.new)
        #expect(
            try String(contentsOfFile: target, encoding: .utf8)
                == "[alice]\naws_access_key_id = \(Keys.newId)\naws_secret_access_key = \(Keys.newSecret)\n")
        var status = stat()
        #expect(lstat(directory.file("credentials"), &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK)
    }
}

func fileMode(_ path: String) -> mode_t? {
    var status = stat()
    return stat(path, &status) == 0 ? status.st_mode & 0o777 : nil
}
