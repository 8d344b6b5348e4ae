import CreddCore
import CreddSTS
import CreddTestSupport
import Foundation
import Testing

extension TemporaryDirectory {
    /// Writes an executable `/bin/sh` script and returns its path.
    func script(_ name: String, _ body: String) throws -> String {
        try write(name, "#!/bin/sh\n\(body)\n", mode: 0o700)
    }
}

/// Whether process `pid` still exists (a zombie awaiting its parent counts as gone).
func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
}

@Suite struct CredentialProcessTests {
    func expectFailure(
        _ commandLine: String, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation
    ) async -> ExternalCommandError? {
        do {
            let credentials = try await CredentialProcess.run(commandLine: commandLine, timeout: timeout)
            Issue.record("expected a failure, got \(credentials)", sourceLocation: sourceLocation)
            return nil
        } catch {
            Fake.expectNoSecrets(error.description, sourceLocation: sourceLocation)
            Fake.expectNoSecrets(error.refreshFailure.message, sourceLocation: sourceLocation)
            Fake.expectNoSecrets(String(reflecting: error), sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func backgroundGrandchildHoldingStdoutCannotStallTheRead() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "leaky",
            """
            sleep 60 &
            echo $! > '\(dir.file("child.pid"))'
            echo '{"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "x"}'
            """)
        let error = try #require(await expectFailure(script, timeout: .milliseconds(500)))
        #expect(error.reason == .timedOut(.milliseconds(500)))
        let text = try String(contentsOfFile: dir.file("child.pid"), encoding: .utf8)
        let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        try await eventually("the child \(pid) to be killed", timeout: .seconds(1), interval: .milliseconds(20)) { !processIsAlive(pid) }
    }

    @Test func sessionCredentialsWithExpiration() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "creds",
            """
            cat <<'JSON'
            {"Version": 1, "AccessKeyId": "ASIAPROCESS", "SecretAccessKey": "\(Fake.secretKey)",
             "SessionToken": "\(Fake.sessionToken)", "Expiration": "2026-11-22T22:50:26Z"}
            JSON
            """)
        let credentials = try await CredentialProcess.run(commandLine: script, timeout: .seconds(10))
        #expect(credentials.accessKeyId == "ASIAPROCESS")
        #expect(credentials.secretAccessKey.revealed == Fake.secretKey)
        #expect(credentials.sessionToken?.revealed == Fake.sessionToken)
        #expect(credentials.expiration == AWSTimestamp.parse("2026-11-22T22:50:26Z"))
    }

    @Test(
        arguments: [(#""AccountId": "123456789012""#, "123456789012"), (#""AccountId": "12345""#, nil), (#""AccountId": """#, nil)]
            as [(String, String?)])
    func accountIdIsReadWhenItIsOne(field: String, account: String?) async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "creds",
            """
            cat <<'JSON'
            {"Version": 1, "AccessKeyId": "AKIAPROCESS", "SecretAccessKey": "s3cr3t", \(field)}
            JSON
            """)
        let credentials = try await CredentialProcess.run(commandLine: script, timeout: .seconds(10))
        #expect(credentials.accessKeyId == "AKIAPROCESS")
        #expect(credentials.accountId == account)
    }

    @Test func longTermCredentialsWithoutExpiration() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("creds", #"echo '{"Version": 1, "AccessKeyId": "AKIAPROCESS", "SecretAccessKey": "s3cr3t"}'"#)
        let credentials = try await CredentialProcess.run(commandLine: script, timeout: .seconds(10))
        #expect(credentials.accessKeyId == "AKIAPROCESS")
        #expect(credentials.sessionToken == nil)
        #expect(credentials.expiration == nil)
    }

    @Test func quotedArgumentsWithSpacesArePassedWithoutAShell() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "echo args",
            """
            [ "$#" = 3 ] || { echo "got $# arguments" >&2; exit 3; }
            [ "$1" = "my profile" ] && [ "$2" = 'it'"'"'s $HOME' ] && [ "$3" = 'a"b' ] || { echo "bad: $1|$2|$3" >&2; exit 4; }
            echo '{"Version": 1, "AccessKeyId": "AKIAQUOTED", "SecretAccessKey": "x"}'
            """)
        let commandLine = "'\(script)' \"my profile\" 'it'\\''s $HOME' \"a\\\"b\""
        let credentials = try await CredentialProcess.run(commandLine: commandLine, timeout: .seconds(10))
        #expect(credentials.accessKeyId == "AKIAQUOTED")
    }

    @Test(arguments: [
        (#"{"Version": "1", "AccessKeyId": "A", "SecretAccessKey": "S"}"#, "Version must be the number 1"),
        (#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "S"}"#, "unsupported Version"),
        (#"{"AccessKeyId": "A", "SecretAccessKey": "S"}"#, "missing Version"),
        (#"{"Version": 1, "SecretAccessKey": "S"}"#, "missing AccessKeyId"),
        (#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": ""}"#, "missing SecretAccessKey"),
        (#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "tomorrow"}"#, "not an RFC 3339"),
        (#"not json at all"#, "not a JSON object"),
        ("", "nothing on stdout"),
    ])
    func invalidOutputIsRejected(json: String, expected: String) async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        try Data(json.utf8).write(to: dir.url.appendingPathComponent("out.json"))
        let script = try dir.script("creds", "cat '\(dir.file("out.json"))'")
        let error = try #require(await expectFailure(script))
        #expect(error.description.contains(expected))
        #expect(error.disposition == .needsChange)
        guard case .invalidOutput = error.reason else {
            Issue.record("unexpected reason \(error.reason)")
            return
        }
    }

    @Test func nonZeroExitQuotesStderrNotStdout() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "creds",
            """
            echo '{"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "\(Fake.secretKey)", "SessionToken": "\(Fake.sessionToken)"}'
            echo "vault is sealed" >&2
            exit 7
            """)
        let error = try #require(await expectFailure(script))
        #expect(error.reason == .nonZeroExit(7))
        #expect(error.stderrExcerpt == "vault is sealed")
        #expect(error.description.contains("exited with status 7 (stderr: vault is sealed)"))
        #expect(error.disposition == .retryable)
    }

    @Test func malformedJSONWithSecretOnStdoutNeverQuotesIt() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("creds", "echo '{\"Version\": 1, \"SecretAccessKey\": \"\(Fake.secretKey)\", oops'")
        let error = try #require(await expectFailure(script))
        #expect(error.description.contains("stdout is not a JSON object"))
    }

    @Test func longStderrIsCutToAnExcerpt() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("creds", "i=0; while [ $i -lt 100 ]; do printf 'line %s\\n' $i >&2; i=$((i+1)); done; exit 1")
        let error = try #require(await expectFailure(script))
        #expect(error.stderrExcerpt.count <= Redaction.excerptLength)
        #expect(error.stderrExcerpt.hasPrefix("line 0 line 1 line 2"))
    }

    @Test func timeoutKillsTheProcessGroup() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script(
            "slow",
            """
            echo $$ > '\(dir.file("parent.pid"))'
            sleep 60 &
            echo $! > '\(dir.file("child.pid"))'
            echo "waiting for the vault" >&2
            wait
            """)
        let error = try #require(await expectFailure(script, timeout: .milliseconds(500)))
        #expect(error.reason == .timedOut(.milliseconds(500)))
        #expect(error.disposition == .retryable)
        #expect(error.description.contains("did not finish within"))
        for name in ["parent.pid", "child.pid"] {
            let text = try String(contentsOfFile: dir.file(name), encoding: .utf8)
            let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            // SIGKILL is asynchronous; the bounded wait only absorbs delivery latency.
            try await eventually("\(name) \(pid) to be killed", timeout: .seconds(1), interval: .milliseconds(20)) { !processIsAlive(pid) }
        }
    }

    @Test func missingProgramIsALaunchFailure() async throws {
        let error = try #require(await expectFailure("/nonexistent/credd-helper --profile x"))
        guard case .launchFailed = error.reason else {
            Issue.record("unexpected reason \(error.reason)")
            return
        }
        #expect(error.program == "/nonexistent/credd-helper")
        #expect(error.disposition == .needsChange)
    }

    @Test func programIsFoundInPath() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        _ = try dir.script("credd-test-helper", #"echo '{"Version": 1, "AccessKeyId": "AKIAPATH", "SecretAccessKey": "x"}'"#)
        let credentials = try await CredentialProcess.run(
            commandLine: "credd-test-helper --flag", timeout: .seconds(10),
            environment: ["PATH": "\(dir.url.path):/usr/bin:/bin"])
        #expect(credentials.accessKeyId == "AKIAPATH")
    }

    @Test func unterminatedQuoteIsAConfigurationError() async throws {
        let error = try #require(await expectFailure("helper 'unterminated"))
        #expect(error.reason == .unparsableCommandLine("no closing '"))
        #expect(error.description.contains("fix the quoting of credential_process"))
    }

    @Test func hugeOutputIsRejected() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("creds", "head -c 200000 /dev/zero | tr '\\\\0' 'x'")
        let error = try #require(await expectFailure(script))
        #expect(error.description.contains("more than"))
    }
}

@Suite struct MFACodeCommandTests {
    @Test func sixDigitCodeIsTrimmedAndReturned() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("totp", "printf '  042917\\n\\n'")
        let code = try await MFACodeCommand.run(commandLine: script, timeout: .seconds(10))
        #expect(code.revealed == "042917")
        #expect("\(code)" == "<redacted>")
    }

    @Test(arguments: ["12345", "1234567", "12a456", "code: 123456", "١٢٣٤٥٦"])
    func anythingButSixDigitsIsRejectedWithoutEchoingIt(output: String) async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("totp", "printf '%s\\n' '\(output)'")
        do {
            let code = try await MFACodeCommand.run(commandLine: script, timeout: .seconds(10))
            Issue.record("expected a failure, got \(code)")
        } catch {
            #expect(!error.description.contains(output))
            #expect(error.description.contains("expected a 6-digit code"))
            #expect(error.disposition == .needsMFA)
            #expect(error.setting == .mfaProcess)
        }
    }

    @Test func failingCommandNeedsMFAFromTheUser() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let script = try dir.script("totp", "echo 'no YubiKey detected' >&2; exit 2")
        do {
            _ = try await MFACodeCommand.run(commandLine: script, timeout: .seconds(10))
            Issue.record("expected a failure")
        } catch {
            #expect(
                error.description
                    == "mfa_process failed: '\(script)' exited with status 2 (stderr: no YubiKey detected). Next: run the command by hand to see why it fails"
            )
            #expect(error.refreshFailure.disposition == .needsMFA)
        }
    }
}

@Suite struct CommandLineSplitterTests {
    @Test(arguments: [
        ("aws-vault export --format=json dev", ["aws-vault", "export", "--format=json", "dev"]),
        ("  spaced   out  ", ["spaced", "out"]),
        ("'/opt/my tools/helper' --x", ["/opt/my tools/helper", "--x"]),
        (#""double \"quoted\" \\ \n""#, [#"double "quoted" \ \n"#]),
        (#"back\ slash\\ \'q"#, [#"back slash\"#, "'q"]),
        ("''", [""]),
        ("a'b'\"c\"d", ["abcd"]),
        ("", []),
    ])
    func splitsLikeShlex(commandLine: String, expected: [String]) throws {
        #expect(try CommandLineSplitter.split(commandLine) == expected)
    }

    @Test(arguments: [
        ("'open", CommandLineSplitter.Failure.unterminatedQuote("'")), ("\"open", .unterminatedQuote("\"")), ("tail\\", .trailingBackslash),
    ])
    func rejectsUnfinishedInput(commandLine: String, failure: CommandLineSplitter.Failure) {
        #expect(throws: failure) { try CommandLineSplitter.split(commandLine) }
    }
}
