import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddEndpoint

struct ContainerTokenTests {
    @Test func generatedTokensAreLongRandomAndHeaderSafe() {
        let tokens = (0..<50).map { _ in ContainerToken.generate().revealed }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.utf8.count == 43)
            #expect(
                token.unicodeScalars.allSatisfy {
                    CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").contains($0)
                })
        }
        #expect("\(ContainerToken.generate())" == "<redacted>")
    }

    @Test func writeCreatesAPrivateDirectoryAndFileWithoutNewline() throws {
        let runtimeDirectory = try TemporaryDirectory(prefix: "credd-runtime")
        defer { runtimeDirectory.remove() }
        let runtime = runtimeDirectory.url
        let path = runtime.path + "/credd/token"
        let token = ContainerToken.generate()
        try ContainerToken.write(token, to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(token.revealed.utf8))
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(runtime.path + "/credd") == 0o700)

        // A restart replaces the token in place and leaves no temporary files behind.
        let next = ContainerToken.generate()
        try ContainerToken.write(next, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == next.revealed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime.path + "/credd") == ["token"])
    }

    @Test func writeTightensAnOpenDirectory() throws {
        let runtimeDirectory = try TemporaryDirectory(prefix: "credd-runtime")
        defer { runtimeDirectory.remove() }
        let runtime = runtimeDirectory.url
        let directory = runtime.appendingPathComponent("credd").path
        #expect(mkdir(directory, 0o755) == 0)
        chmod(directory, 0o755)
        try ContainerToken.write(ContainerToken.generate(), to: directory + "/token")
        #expect(try Self.mode(directory) == 0o700)
    }

    @Test func writeRefusesASymlinkedDirectory() throws {
        let runtimeDirectory = try TemporaryDirectory(prefix: "credd-runtime")
        defer { runtimeDirectory.remove() }
        let runtime = runtimeDirectory.url
        let elsewhereDirectory = try TemporaryDirectory(prefix: "credd-elsewhere")
        defer { elsewhereDirectory.remove() }
        let elsewhere = elsewhereDirectory.url
        try FileManager.default.createSymbolicLink(atPath: runtime.path + "/credd", withDestinationPath: elsewhere.path)
        let token = ContainerToken.generate()
        let error = #expect(throws: EndpointError.self) {
            try ContainerToken.write(token, to: runtime.path + "/credd/token")
        }
        #expect(error?.description.contains(runtime.path + "/credd") == true)
        #expect(error?.description.contains(token.revealed) == false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    @Test func writeReportsAMissingParent() throws {
        let token = ContainerToken.generate()
        let error = #expect(throws: EndpointError.self) {
            try ContainerToken.write(token, to: "/nonexistent-credd-test/credd/token")
        }
        let message = try #require(error?.description)
        #expect(message.contains("/nonexistent-credd-test/credd"))
        #expect(message.contains("XDG_RUNTIME_DIR"))
        #expect(!message.contains(token.revealed))
    }

    @Test(arguments: [
        ("abcdef", "abcdef", true), ("abcdef", "abcdeg", false), ("bbcdef", "abcdef", false), ("abcde", "abcdef", false),
        ("", "", true), ("", "a", false), ("é", "e\u{301}", false),
    ])
    func tokensCompareByTheirBytes(candidate: String, expected: String, equal: Bool) {
        #expect(RandomToken.constantTimeEquals(candidate, expected) == equal)
    }

    static func mode(_ path: String) throws -> mode_t {
        var status = stat()
        try #require(lstat(path, &status) == 0)
        return status.st_mode & 0o777
    }
}
