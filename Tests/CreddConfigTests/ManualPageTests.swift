import Foundation
import Testing

@testable import CreddConfig

/// `docs/man/credd.conf.5` against the loader: every key documented, every example valid.
@Suite("credd.conf(5)")
struct ManualPageTests {
    static let page = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/man/credd.conf.5")

    static func source() throws -> [String] {
        try String(contentsOf: page, encoding: .utf8).components(separatedBy: "\n")
    }

    /// The text of the `.EX` block after the roff comment `.\" credd-example: NAME`, with roff's
    /// `\-` made a plain `-` (scripts/package-test extracts it the same way).
    static func example(_ name: String, in lines: [String]) throws -> String {
        let marker = try #require(lines.firstIndex(of: ".\\\" credd-example: \(name)"), "no example '\(name)' in credd.conf.5")
        let start = try #require(lines[marker...].firstIndex(of: ".EX"), "example '\(name)' has no .EX")
        let end = try #require(lines[start...].firstIndex(of: ".EE"), "example '\(name)' has no .EE")
        return lines[(start + 1)..<end].map { $0.replacingOccurrences(of: "\\-", with: "-") }.joined(separator: "\n") + "\n"
    }

    @Test func everyKeyTheLoaderAcceptsIsDocumented() throws {
        let lines = try Self.source()
        // Each key is a `.TP` item: `.TP` then `.B key`.
        let documented = Set(zip(lines, lines.dropFirst()).filter { $0.0 == ".TP" }.map { $0.1 })
        for key in CreddSectionSettings.keys + ProfileDefinition.supportedKeys + SSOSessionSection.keys {
            #expect(documented.contains(".B \(key)"), "credd.conf.5 does not document '\(key)'")
        }
    }

    @Test func examplesPassCheck() throws {
        let lines = try Self.source()
        let config = try Self.example("config", in: lines)
        let credentials = try Self.example("credentials", in: lines)
        let home = FakeHome(config: config, credentials: credentials)
        let configuration = try home.load()
        #expect(configuration.errors.isEmpty, "\(configuration.errors)")
        #expect(configuration.profiles.map(\.name).sorted() == ["audit", "dev", "mfa"])
        #expect(config.contains("mfa_process = ykman oath accounts code --single aws"), "roff escapes must not reach the example")
    }
}
