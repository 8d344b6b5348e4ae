import CreddConfig
import Testing

/// Config errors quote at most a short, redacted prefix of a value.
@Suite("Config errors quote values safely")
struct RedactedConfigErrorTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    struct Pasted: Sendable, CustomTestStringConvertible {
        let name: String
        let config: String
        var testDescription: String { name }
    }

    @Test(
        "a secret pasted into a value is never echoed",
        arguments: [
            Pasted(name: "as mfa_serial", config: "[profile p]\nsource_profile = alice-long-term\nmfa_serial = \(secret)\n"),
            Pasted(name: "as source_profile", config: "[profile p]\nsource_profile = \(secret)\n"),
            Pasted(name: "as a region", config: "[profile p]\nsource_profile = alice-long-term\nregion = \(secret)\n"),
            Pasted(name: "as a key", config: "[profile p]\nsource_profile = alice-long-term\n\(secret) = x\n"),
            Pasted(name: "as a section", config: "[\(secret)]\n"),
            Pasted(name: "as listen", config: "[credd]\nlisten = \(secret):1\n"),
            Pasted(name: "as imds_profile", config: "[credd]\nimds_profile = \(secret)\n"),
            Pasted(name: "as duration_seconds", config: "[profile p]\nsource_profile = alice-long-term\nduration_seconds = \(secret)\n"),
        ])
    func pastedSecret(_ example: Pasted) throws {
        let loaded = try FakeHome(config: example.config, credentials: FakeHome.longTermCredentials).load()
        #expect(!loaded.errors.isEmpty)
        let report = ConfigCheckReport.render(loaded)
        for fragment in [Self.secret, "wJalrXUtnFEMI", "bPxRfiCYEXAMPLEKEY"] {
            #expect(!report.contains(fragment))
        }
        #expect(report.contains("<redacted>"))
    }

    @Test("a 200 kB value becomes a short message")
    func hugeValue() throws {
        let huge = String(repeating: "not a role ", count: 20_000)
        let loaded = try FakeHome(
            config: "[profile p]\nsource_profile = alice-long-term\nrole_arn = \(huge)\n", credentials: FakeHome.longTermCredentials
        ).load()
        let error = try #require(loaded.errors.first)
        #expect(error.description.count < 300)
        #expect(error.message.hasPrefix("'not a role not a role not a role…' is not valid"))
    }
}
