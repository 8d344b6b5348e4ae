import CreddTestSupport
import Testing

@testable import CreddConfig

/// The hand-written matchers in `ConfigValues` against the AWS patterns they stand for.
@Suite("Config value patterns")
struct ConfigValuesTests {
    struct PatternCase: Sendable, CustomTestStringConvertible {
        let name: String
        let matcher: @Sendable (String) -> Bool
        let pattern: String
        let accepted: [String]
        let rejected: [String]
        var testDescription: String { name }
    }

    static let cases: [PatternCase] = [
        PatternCase(
            name: "role ARN", matcher: ConfigValues.isRoleARN,
            pattern: #"arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9_+=,.@\/-]{1,512}"#,
            accepted: [
                "arn:aws:iam::123456789012:role/Admin", "arn:aws-us-gov:iam::123456789012:role/path/to/R_+=,.@-",
                "arn:aws:iam::123456789012:role/" + String(repeating: "r", count: 512),
            ],
            rejected: [
                "", "arn:aws:iam::123456789012:role/", "arn:aws:iam::12345678901:role/A", "arn:aws:iam::1234567890123:role/A",
                "arn:aws:iam::123456789012:user/A", "arn:aws:iam::123456789012:role/A B", "arn:aws:sts::123456789012:role/A",
                "arn:aws:iam::123456789012:role/" + String(repeating: "r", count: 513), "arn:aws:iam::123456789012:role/é",
                " arn:aws:iam::123456789012:role/A", "arn:aws:iam::123456789012:role/A\r\n",
            ]),
        PatternCase(
            name: "MFA serial", matcher: ConfigValues.isMFASerial,
            pattern: #"arn:aws[a-z-]*:iam::[0-9]{12}:mfa\/[A-Za-z0-9_+=,.@\/-]{1,512}|[A-Za-z0-9]{9,256}"#,
            accepted: [
                "arn:aws:iam::123456789012:mfa/alice", "arn:aws-cn:iam::123456789012:mfa/path/alice", "GAHT12345678",
                String(repeating: "9", count: 256),
            ],
            rejected: [
                "GAHT1234", "arn:aws:iam::123456789012:role/alice", "GAHT-12345678", String(repeating: "9", count: 257),
                "arn:aws:iam::123456789012:mfa/",
            ]),
        PatternCase(
            name: "role session name", matcher: ConfigValues.isRoleSessionName,
            pattern: #"[A-Za-z0-9_+=,.@-]{2,64}"#,
            accepted: ["ab", "alice@example.com", "a_+=,.@-", String(repeating: "s", count: 64)],
            rejected: ["a", "", "alice smith", "a/b", String(repeating: "s", count: 65), "ab\u{301}"]),
        PatternCase(
            name: "external id", matcher: ConfigValues.isExternalId,
            pattern: #"[A-Za-z0-9_+=,.@:\/-]{2,1224}"#,
            accepted: ["ab", "a:b/c", String(repeating: "x", count: 1224)],
            rejected: ["a", "a b", "a;b", String(repeating: "x", count: 1225)]),
        PatternCase(
            name: "region", matcher: ConfigValues.isRegion,
            pattern: #"[a-z]{2,}(-[a-z0-9]+)+"#,
            accepted: ["eu-west-1", "us-gov-west-1", "cn-north-1", "ab-c"],
            rejected: ["eu", "e-west-1", "eu-west-", "eu--west", "-eu-west-1", "EU-west-1", "eu_west_1", ""]),
        PatternCase(
            name: "profile name", matcher: ConfigValues.isProfileName,
            pattern: #"[A-Za-z0-9_\/.%@-]+"#,
            accepted: ["dev", "team/dev.admin", "a%20b", "alice@corp-1"],
            rejected: ["", "dev admin", "dév", "a:b", "a#b"]),
    ]

    @Test("accepts and rejects the listed values", arguments: cases)
    func listedValues(_ testCase: PatternCase) {
        for value in testCase.accepted { #expect(testCase.matcher(value), "\(value)") }
        for value in testCase.rejected { #expect(!testCase.matcher(value), "\(value)") }
    }

    @Test("agrees with AWS's regular expression on generated values", arguments: cases)
    func agreesWithRegex(_ testCase: PatternCase) throws {
        let regex = try Regex(testCase.pattern)
        // Pieces of the valid values, and characters around the classes' edges.
        let pieces =
            (testCase.accepted + [
                "arn:aws", ":iam::", "123456789012", ":role/", ":mfa/", "-", ":", "/", " ", "é", "\u{301}", "Z", "z", "0", "9", "_",
            ])
            .flatMap { value in [value] + value.map(String.init) }
        var random = SplitMix64(seed: 4)
        for _ in 0..<3_000 {
            let value = (0..<Int.random(in: 1...6, using: &random)).map { _ in pieces.randomElement(using: &random) ?? "" }.joined()
            #expect(testCase.matcher(value) == (value.wholeMatch(of: regex) != nil), "\(value)")
        }
    }
}
