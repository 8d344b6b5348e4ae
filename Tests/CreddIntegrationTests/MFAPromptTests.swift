import CreddCore
import CreddTestSupport
import Foundation
import Testing

/// A needed MFA code is impossible to miss: the real `credd` binary against moto, with the CLI
/// on a real pty (python's pexpect) where it must ask, and with no controlling terminal at all
/// (`setsid`) where it must fail with the command to run.
@Suite(
    .serialized,
    .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"),
    .enabled(if: PtySession.isAvailable, "python3 with pexpect is not installed: run scripts/install-deps"))
struct MFAPromptTests {
    static let device = "arn:aws:iam::123456789012:mfa/alice"
    static let prompt = #"Enter MFA code for arn:aws:iam::123456789012:mfa/alice \(profile mfa\): "#
    static let longTermSecret = DaemonEndToEndTests.longTermSecret

    struct Status: Decodable {
        struct Action: Decodable, Equatable {
            let kind: String
            let profile: String
            let command: String
            let deadline: String?
            let mfa_serial: String?
        }
        struct Profile: Decodable {
            let name: String
            let state: String
            let error: String?
            let action: Action?
        }
        struct Daemon: Decodable {
            let config_errors: [String]
        }
        let daemon: Daemon
        let profiles: [Profile]

        func profile(_ name: String) -> Profile? { profiles.first { $0.name == name } }
    }

    func status(_ harness: CreddHarness) throws -> (exit: Int32, document: Status?, json: String) {
        let output = try harness.cli(["status", "--json"])
        return (output.status, try? JSONDecoder().decode(Status.self, from: Data(output.stdout.utf8)), output.stdout)
    }

    /// A daemon whose `mfa` waits for `credd login` and whose `dev` is chained from it; STS is
    /// moto, or `stsEndpoint` when given.
    func startWaitingDaemon(
        moto: MotoServer, stsEndpoint: String? = nil, notifications: (CreddHarness) throws -> DatagramListener? = { _ in nil }
    ) throws -> CreddHarness {
        let harness = try CreddHarness(stsEndpoint: stsEndpoint ?? moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort, mfaProcess: false))
        let listener = try notifications(harness)
        try harness.start(environment: listener.map { ["NOTIFY_SOCKET": $0.path] } ?? [:])
        try harness.waitUntil { try status(harness).document?.profile("dev")?.action?.kind == "mfa_code" }
        return harness
    }

    /// Runs a credd command with no controlling terminal, as under systemd or cron.
    func withoutTerminal(_ harness: CreddHarness, _ arguments: [String], stdin: String? = nil) throws -> ChildProcess.Output {
        try ChildProcess.run(["setsid", "--wait", CreddHarness.binary] + arguments, environment: harness.environment, stdin: stdin)
    }

    func expectNoSecrets(_ text: String, _ harness: CreddHarness, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in [Self.longTermSecret] + harness.secretsInHome() {
            #expect(!text.contains(secret), "a secret leaked", sourceLocation: sourceLocation)
        }
    }

    @Test func statusNamesTheCommandAndExecAsksForTheCodeOnlyOnATerminal() throws {
        let moto = try MotoServer()
        var listener: DatagramListener?
        let harness = try startWaitingDaemon(moto: moto) { harness in
            listener = try DatagramListener(path: harness.directory.file("notify.sock"))
            return listener
        }
        let notifications = try #require(listener)
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("1 needs MFA (mfa: credd login mfa)") }

        let table = try harness.cli(["status"])
        #expect(table.status == 1)
        #expect(table.stdout.contains("\nmfa needs an MFA code: run `credd login mfa` (no session in service)\n"), "\(table.stdout)")
        #expect(table.stdout.contains("\ndev needs an MFA code for mfa: run `credd login mfa` (no session in service)\n"), "\(table.stdout)")

        let waiting = try status(harness)
        #expect(waiting.exit == 1)
        #expect(try harness.statusSchemaViolation(waiting.json) == nil)
        let mfa = try #require(waiting.document?.profile("mfa"))
        #expect(mfa.action == .init(kind: "mfa_code", profile: "mfa", command: "credd login mfa", deadline: nil, mfa_serial: Self.device))
        #expect(mfa.error == "needs an MFA code: run `credd login mfa`")
        let dev = try #require(waiting.document?.profile("dev"))
        #expect(dev.action == .init(kind: "mfa_code", profile: "mfa", command: "credd login mfa", deadline: nil, mfa_serial: Self.device))
        #expect(dev.error == "needs an MFA code for mfa: run `credd login mfa`")

        // The journal's default view shows MESSAGE: it names the profile and the command.
        #expect(harness.daemonLog().contains(#"mfa: needs an MFA code; run "credd login mfa""#), "\(harness.daemonLog())")
        #expect(harness.daemonLog().contains(#"dev: needs an MFA code for mfa; run "credd login mfa""#), "\(harness.daemonLog())")

        // Off a terminal: the command to run, exit 1, and the command never runs into a 503.
        let marker = harness.directory.file("ran")
        let offTerminal = try withoutTerminal(harness, ["exec", "dev", "--", "sh", "-c", "touch \(marker)"])
        #expect(offTerminal.status == 1)
        #expect(offTerminal.stderr == "credd: dev needs an MFA code for mfa: run `credd login mfa`\n")
        #expect(!FileManager.default.fileExists(atPath: marker), "exec must not run the command without credentials")
        for command in [["env", "dev"], ["credential-process", "dev"], ["credential-process", "mfa"]] {
            let output = try withoutTerminal(harness, command)
            #expect(output.status == 1, "\(command)")
            #expect(output.stderr.hasSuffix("run `credd login mfa`\n"), "\(command): \(output.stderr)")
            #expect(output.stdout.isEmpty, "\(command)")
        }

        // On a terminal: asked as aws-vault asks, then the command runs with dev's credentials.
        let session = try PtySession.run(
            [CreddHarness.binary, "exec", "dev", "--", "sh", "-c", "aws sts get-caller-identity --query Arn --output text && echo ok"],
            steps: [.init(expect: Self.prompt, send: "123456"), .init(expect: "assumed-role/Developer/alice"), .init(expect: "ok")],
            harness: harness)
        #expect(session.status == 0, "\(session.transcript)")
        #expect(try status(harness).exit == 0, "the code renewed mfa, and dev from it")
        expectNoSecrets(session.transcript + harness.daemonLog() + table.stdout + waiting.json, harness)
        #expect(!harness.daemonLog().contains("123456"), "the code is never logged")

        // `credd refresh mfa` keeps a valid MFA session rather than ask for a code.
        #expect(try harness.cli(["refresh", "mfa"]).status == 0)
        // A kept session that is due for renewal (17 minutes left, as after a night) is adopted
        // at start and stays in service: the line under the table says until when, and exec goes
        // on with a reminder.
        #expect(try harness.stop() == 0)
        let dueSoon = AWSTimestamp.format(Date().addingTimeInterval(17 * 60))
        let credentials = try harness.credentialsFile()
        let rewritten = credentials.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("x_security_token_expires") ? "x_security_token_expires = \(dueSoon)" : String(line)
        }
        try harness.writeCredentials(rewritten.joined(separator: "\n"))
        try harness.start()
        try harness.waitUntil { try harness.cli(["status"]).stdout.contains("\nmfa needs an MFA code: run `credd login mfa` (its session ends ") }
        let reminded = try harness.cli(["status"])
        #expect(
            reminded.stdout.contains(", in 16 min") || reminded.stdout.contains(", in 17 min"), "a session with 17 minutes left: \(reminded.stdout)")
        let stillServed = try withoutTerminal(harness, ["exec", "mfa", "--", "sh", "-c", "touch \(marker)"])
        #expect(stillServed.status == 0, "\(stillServed.stderr)")
        #expect(stillServed.stderr.hasPrefix("credd: mfa needs an MFA code: run `credd login mfa` (its session ends "))
        #expect(FileManager.default.fileExists(atPath: marker))
        try harness.stop()
    }

    @Test(arguments: [
        (["env", "dev"], "export AWS_CONTAINER_CREDENTIALS_FULL_URI="),
        (["credential-process", "dev"], #""Version":1"#),
    ])
    func envAndCredentialProcessAskOnTheTerminalToo(command: [String], output: String) throws {
        let moto = try MotoServer()
        let harness = try startWaitingDaemon(moto: moto)
        let session = try PtySession.run(
            [CreddHarness.binary] + command, steps: [.init(expect: Self.prompt, send: "123456"), .init(expect: output)], harness: harness)
        #expect(session.status == 0, "\(session.transcript)")
        #expect(try status(harness).exit == 0)
        if command[0] == "env" {
            // env hands over the container token by design (for SDKs that read only the token), never credentials.
            let token = try String(contentsOfFile: harness.runtimeDirectory + "/credd/token", encoding: .utf8)
            #expect(session.transcript.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN='\(token)'"))
            expectNoSecrets(session.transcript.replacingOccurrences(of: token, with: "<token>"), harness)
        }
        try harness.stop()
    }

    /// A fake STS in front of moto that rejects the code 000000 as STS rejects a wrong code;
    /// everything else goes to moto (which accepts any six digits).
    static let rejectingHook = #"""
        REJECTION = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                     b'<Code>AccessDenied</Code><Message>MultiFactorAuthentication failed with invalid MFA one time pass code. '
                     b'</Message></Error><RequestId>fake-rejection-1</RequestId></ErrorResponse>')
        if form.get("Action") == "GetSessionToken" and form.get("TokenCode") == "000000":
            return self.reply(403, REJECTION)
        """#

    @Test func loginAsksAgainAfterAMistypedOrRejectedCodeAndNeverTakesOneFromArgv() throws {
        let moto = try MotoServer()
        let proxy = try LoopbackServer(STSRelay.arguments(upstream: moto.endpoint, hook: Self.rejectingHook))
        defer { proxy.stop() }
        let harness = try startWaitingDaemon(moto: moto, stsEndpoint: proxy.endpoint.absoluteString)

        let inArgv = try harness.cli(["login", "mfa", "--code", "123456"])
        #expect(inArgv.status == 64)
        #expect(inArgv.stderr.contains("readable by every local user in /proc"), "\(inArgv.stderr)")
        let mistyped = try harness.cli(["login", "mfa", "--code", "-"], stdin: "12345\n")
        #expect(mistyped.status == 1)
        #expect(mistyped.stderr == "credd: an MFA code is six digits\n")
        let rejected = try harness.cli(["login", "mfa", "--code", "-"], stdin: "000000\n")
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("mfa: ") && rejected.stderr.contains("invalid MFA one time pass code"), "\(rejected.stderr)")
        let noTerminal = try withoutTerminal(harness, ["login", "mfa"])
        #expect(noTerminal.status == 1)
        #expect(noTerminal.stderr == "credd: no terminal to ask for the MFA code on; pipe it in: credd login mfa --code -\n")

        // On a terminal: a mistyped code (refused by credd) and a rejected one (refused by STS)
        // are each asked for again.
        let session = try PtySession.run(
            [CreddHarness.binary, "login", "mfa"],
            steps: [
                .init(expect: Self.prompt, send: "12345"),
                .init(expect: "an MFA code is six digits; try again"),
                .init(expect: Self.prompt, send: "000000"),
                .init(expect: "invalid MFA one time pass code"),
                .init(expect: "wait for the next code and try again"),
                .init(expect: Self.prompt, send: "123456"),
                .init(expect: "mfa: renewed with the MFA code"),
            ],
            harness: harness)
        #expect(session.status == 0, "\(session.transcript)")
        try harness.waitUntil { try status(harness).exit == 0 }
        expectNoSecrets(session.transcript + harness.daemonLog(), harness)
        for code in ["000000", "123456"] {
            #expect(!harness.daemonLog().contains(code), "the code is never logged")
        }
        try harness.stop()
    }

    @Test func loginOnAChainedRoleLogsInTheProfileThatTakesTheCode() throws {
        let moto = try MotoServer()
        let harness = try startWaitingDaemon(moto: moto)
        let login = try harness.cli(["login", "dev", "--code", "-"], stdin: "123456\n")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout == "dev is chained from mfa: logging in mfa\nmfa: renewed with the MFA code\ndev: fresh\n")
        #expect(try status(harness).exit == 0, "dev answered once it renewed too")
        try harness.stop()
    }

    @Test func statusExitsOneWhileTheConfigHasErrors() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        let broken = """

            [profile broken]
            source_profile = nowhere
            role_arn = arn:aws:iam::123456789012:role/Broken
            """
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort, extraProfiles: broken))
        let notifications = try DatagramListener(path: harness.directory.file("notify.sock"))
        try harness.start(environment: ["NOTIFY_SOCKET": notifications.path])
        try harness.waitUntil { try status(harness).document?.profiles.allSatisfy { $0.state == "fresh" } == true }
        let current = try status(harness)
        #expect(current.exit == 1, "every profile is fresh, but one does not resolve")
        #expect(current.document?.daemon.config_errors.contains { $0.contains("[profile broken]") } == true, "\(current.json)")
        #expect(current.document?.profiles.allSatisfy { $0.action == nil } == true)
        let table = try harness.cli(["status"])
        #expect(table.status == 1)
        #expect(table.stdout.hasPrefix("config: "), "\(table.stdout)")
        try notifications.waitFor { $0.hasPrefix("STATUS=config error in ") && $0.contains("[profile broken]") && $0.contains("2 fresh") }

        // A running profile whose definition breaks keeps its last good one, and says to fix it.
        let brokenDev = DaemonEndToEndTests.config(port: harness.endpointPort).replacingOccurrences(
            of: "role_arn = arn:aws:iam::123456789012:role/Developer", with: "role_arn = Developer")
        try harness.writeConfig(brokenDev)
        try harness.waitUntil { try status(harness).document?.profile("dev")?.action?.kind == "fix_config" }
        let dev = try #require(try status(harness).document?.profile("dev"))
        #expect(dev.state == "fresh")
        #expect(dev.action?.command == "credd check" && dev.action?.profile == "dev" && dev.action?.deadline != nil)
        #expect(dev.error == "its config has errors (it runs on its last good definition): run `credd check`")
        // The line wraps between words at 80 columns.
        #expect(
            try harness.cli(["status"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                .contains(" dev: its config has errors (it runs on its last good definition): run `credd check` (its session ends "))
        #expect(try harness.statusSchemaViolation(try status(harness).json) == nil)
        try harness.stop()
    }
}
