import CreddCore
import CreddSTS
import CreddTestSupport
import Foundation
import Testing

/// What a helper or STS says back is redacted before credd stores or prints it.
@Suite("Redacted helper and STS output")
struct RedactedOutputTests {
    /// A token credd did not send, so only its shape can give it away.
    static let strangersToken = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+stranger+token/with/slashes=="

    struct Echo: Sendable, CustomTestStringConvertible {
        let name: String
        let body: String
        let hidden: [String]
        var testDescription: String { name }
    }

    static let echoes: [Echo] = [
        Echo(name: "the caller's token, raw", body: "token \(Fake.sessionToken) rejected", hidden: [Fake.sessionToken]),
        Echo(
            name: "the caller's token, percent-encoded",
            body: "Request: Action=GetCallerIdentity&X-Amz-Security-Token=\(percentEncoded(Fake.sessionToken))",
            hidden: [percentEncoded(Fake.sessionToken), "FAKEsessionTOKEN"]),
        Echo(
            name: "the caller's secret, lower-case escapes", body: "key=\(percentEncoded(Fake.secretKey).lowercased())",
            hidden: [percentEncoded(Fake.secretKey).lowercased(), "FAKEsecretKEY"]),
        Echo(
            name: "another token, percent-encoded", body: "echo SessionToken=\(percentEncoded(strangersToken))&Version=2011-06-15",
            hidden: [percentEncoded(strangersToken), "b3JpZ2luX2Vj", "%2F%2F%2F%2F"]),
        Echo(name: "an access key id", body: "The security token for AKIAIOSFODNN7EXAMPLE is invalid", hidden: ["AKIAIOSFODNN7EXAMPLE"]),
        Echo(
            name: "a 100 kB body", body: String(repeating: "The request was refused. ", count: 4_000) + Fake.sessionToken, hidden: [Fake.sessionToken]
        ),
    ]

    @Test("an STS error body loses every credential-shaped echo and is cut short", arguments: echoes)
    func stsBody(_ echo: Echo) async throws {
        // The body is XML: an echoed form body has its `&` escaped.
        let transport = FakeTransport([.error(403, code: "InvalidClientTokenId", message: echo.body.replacingOccurrences(of: "&", with: "&amp;"))])
        let client = STSClient(
            transport: transport, endpoint: try #require(URL(string: "https://sts.amazonaws.com")), signingRegion: "us-east-1",
            wallClock: ManualWallClock(Fake.now))
        let error = try #require(await #expect(throws: STSError.self) { try await client.getCallerIdentity(credentials: Fake.session) })
        for text in [error.description, error.message, error.refreshFailure.message, String(reflecting: error)] {
            Fake.expectNoSecrets(text)
            for hidden in echo.hidden { #expect(!text.contains(hidden), "\(echo.name) leaked") }
        }
        #expect(error.message.count <= Redaction.excerptLength)
        #expect(error.code == "InvalidClientTokenId")
        #expect(error.requestId == "4fc0d3ee-efef-11e9-9282-3b7bffe54a9b")
    }

    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test("a helper run with set -x that echoes the secret to stderr is quoted redacted", arguments: ["credential_process", "mfa_process"])
    func setX(setting: String) async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-redact")
        let script = try dir.script(
            "helper",
            """
            set -x
            SECRET='\(Self.secret)'
            TOKEN='\(Self.strangersToken)'
            printf '%s\\n' "vault refused key AKIAIOSFODNN7EXAMPLE: $SECRET" >&2
            exit 3
            """)
        let error: ExternalCommandError
        do {
            if setting == "mfa_process" {
                _ = try await MFACodeCommand.run(commandLine: script, timeout: .seconds(10))
            } else {
                _ = try await CredentialProcess.run(commandLine: script, timeout: .seconds(10))
            }
            Issue.record("the helper succeeded")
            return
        } catch let failure {
            error = failure
        }
        #expect(error.reason == .nonZeroExit(3))
        for text in [error.description, error.stderrExcerpt, error.refreshFailure.message, String(reflecting: error)] {
            for hidden in [
                Self.secret, "wJalrXUtnFEMI", "bPxRfiCYEXAMPLEKEY", "K7MDENG", Self.strangersToken, "b3JpZ2luX2Vj", "AKIAIOSFODNN7EXAMPLE",
            ] {
                #expect(!text.contains(hidden))
            }
        }
        // What set -x traced is still there to read, minus the values.
        #expect(error.stderrExcerpt.hasPrefix("+ SECRET=<redacted> + TOKEN=<redacted> + printf %s"))
        #expect(error.stderrExcerpt.count <= Redaction.excerptLength)
    }
}

/// Percent-encoding as a form body spells it: every byte outside `[A-Za-z0-9._~-]` as `%XX`.
func percentEncoded(_ text: String) -> String {
    text.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
}
