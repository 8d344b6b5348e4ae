import CreddCore
import Foundation
import Testing

@Suite("Redaction")
struct RedactionTests {
    static let accessKeyId = "AKIAIOSFODNN7EXAMPLE"
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+sessiontoken+with/slashes=="

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        /// What must not survive.
        let hidden: [String]
        /// What must survive.
        var kept: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "access key id", text: "key \(accessKeyId) is inactive", hidden: [accessKeyId], kept: ["key", "is inactive"]),
        Case(name: "temporary access key id", text: "ASIAQEXAMPLEXYZ12345", hidden: ["ASIAQEXAMPLEXYZ12345"]),
        Case(name: "secret key", text: "secret=\(secret).", hidden: [secret, "K7MDENG/bPxRfiCY"]),
        Case(name: "session token", text: "token: \(token)", hidden: [token, "b3JpZ2luX2VjEPT"]),
        Case(
            name: "helper run with set -x",
            text: "+ SECRET=\(secret)\n+ printf '{\"SecretAccessKey\": \"%s\"}' \(secret)\n+ exit 3\n",
            hidden: [secret], kept: ["+ exit 3"]),
        Case(
            name: "STS body echoing the token percent-encoded",
            text: "<Message>Request body: Action=AssumeRole&SessionToken=\(percentEncoded(token))&Version=2011-06-15</Message>",
            hidden: [percentEncoded(token), "b3JpZ2luX2VjEPT", "%2F%2F%2F"], kept: ["<Message>Request body: Action=AssumeRole"]),
        Case(
            name: "lower-case percent escapes",
            text: "echo: \(percentEncoded(secret).lowercased())", hidden: [percentEncoded(secret).lowercased()]),
        Case(
            name: "JSON-escaped slashes", text: "{\"k\":\"\(secret.replacingEvery("/", with: "\\/"))\"}",
            hidden: ["wJalrXUtnFEMI", "bPxRfiCYEXAMPLEKEY"]),
        Case(name: "any long base64 run", text: "blob ZXhhbXBsZTEyMzQ1Njc4OTA= end", hidden: ["ZXhhbXBsZTEyMzQ1Njc4OTA="], kept: ["blob", "end"]),
        Case(name: "a hex token", text: "api token 0123456789abcdef0123456789abcdef ok", hidden: ["0123456789abcdef0123456789abcdef"], kept: ["ok"]),
        Case(
            name: "paths and session names stay readable",
            text: "/usr/local/bin/vault-helper-2: botocore-session-1712345678 failed",
            hidden: [], kept: ["/usr/local/bin/vault-helper-2: botocore-session-1712345678 failed"]),
        Case(
            name: "words, ARNs and request ids stay readable",
            text:
                "MultiFactorAuthentication failed for arn:aws:sts::123456789012:assumed-role/Dev/alice, request c6104cbe-af31-11e0-8154-cbc7ccf896c7",
            hidden: [],
            kept: ["MultiFactorAuthentication failed", "arn:aws:sts::123456789012:assumed-role/Dev/alice", "c6104cbe-af31-11e0-8154-cbc7ccf896c7"]),
    ]

    @Test("credential-shaped text is replaced and messages stay readable", arguments: cases)
    func redacts(_ example: Case) {
        let result = Redaction.excerpt(example.text, limit: .max)
        for hidden in example.hidden {
            #expect(!result.contains(hidden), "\(example.name): a hidden fragment survived")
        }
        for kept in example.kept {
            #expect(result.contains(kept), "\(example.name): lost \(kept) in \(result)")
        }
        #expect(!example.hidden.isEmpty == result.contains(Redaction.placeholder))
    }

    @Test(
        "a known secret goes in every spelling, even when too short to look like one",
        arguments: [
            "short-pass", "p@ss/w+rd=", "x y",
        ])
    func knownSecrets(secret: String) {
        let text = "raw \(secret) encoded \(percentEncoded(secret)) lower \(percentEncoded(secret).lowercased())"
        let result = Redaction.redacting(text, secrets: [secret])
        #expect(!result.contains(secret))
        #expect(!result.contains(percentEncoded(secret)))
        #expect(result == "raw <redacted> encoded <redacted> lower <redacted>")
    }

    @Test("an excerpt is one line of at most 160 characters, redacted before it is cut")
    func excerptBounds() {
        let long = String(repeating: "word ", count: 100) + Self.secret
        let excerpt = Redaction.excerpt("line one\r\nline\ttwo\u{1B}[31m\n" + long)
        #expect(excerpt.count <= Redaction.excerptLength)
        #expect(excerpt.hasPrefix("line one line two [31m word"))
        #expect(excerpt.hasSuffix("…"))
        // The secret straddling the cut is not partly shown.
        let straddling = Redaction.excerpt(String(repeating: "a ", count: 70) + Self.secret)
        #expect(!straddling.contains("wJalr"))
    }

    struct Value: Sendable, CustomTestStringConvertible {
        let name: String
        let value: String
        let shown: String
        var testDescription: String { name }
    }

    @Test(
        "a config value is quoted as a short redacted prefix",
        arguments: [
            Value(name: "a pasted secret", value: secret, shown: "<redacted>"),
            Value(name: "200 kB of words", value: String(repeating: "not a secret ", count: 16_000), shown: "not a secret not a secret not a …"),
            Value(name: "200 kB in one run", value: String(repeating: "x", count: 200_000), shown: "<redacted>"),
            Value(name: "an MFA ARN", value: "arn:aws:iam::123456789012:mfa/al", shown: "arn:aws:iam::123456789012:mfa/al"),
            Value(name: "two lines", value: "two\nlines", shown: "two lines"),
        ])
    func valuePrefix(_ example: Value) {
        #expect(Redaction.valuePrefix(example.value) == example.shown)
    }
}

/// Percent-encoding as a form body spells it: every byte outside `[A-Za-z0-9._~-]` as `%XX`.
func percentEncoded(_ text: String) -> String {
    text.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
}
