import CreddTestSupport
import Foundation
import Testing

@Suite("credd --version, the binary")
struct VersionTests {
    /// packaging/changelog, next to Package.swift: the Debian package's version, which
    /// `scripts/package` checks against `credd --version`.
    static let changelog = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../packaging/changelog").standardized.path

    @Test func printsTheVersionAndTheCommitItWasBuiltFrom() throws {
        let firstLine = try String(contentsOfFile: Self.changelog, encoding: .utf8).prefix { $0 != "\n" }
        // `credd (0.1.0-1) unstable; …`: the upstream version is before the Debian revision.
        let packaged = try #require(firstLine.split(separator: "(").dropFirst().first?.split(separator: "-").first)
        let output = try ChildProcess.run([CreddHarness.binary, "--version"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(output.status == 0)
        let printed = output.stdout.trimmingCharacters(in: .newlines)
        #expect(printed.hasPrefix("credd \(packaged) (commit "), "\(printed)")
        #expect(printed.hasSuffix(")") && !printed.hasSuffix("(commit )"), "\(printed)")
    }
}
