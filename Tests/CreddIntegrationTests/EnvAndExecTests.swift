import CreddTestSupport
import Foundation
import Testing

/// `credd env` and `credd exec` as a user runs them: in bash, zsh and fish, across a daemon
/// restart, switching profiles, and `credd exec` opening the user's shell on a terminal.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct EnvAndExecTests {
    static let role = "assumed-role/Developer/alice"

    /// The harness's environment with `credd` on PATH, as it is for a user.
    func userEnvironment(_ harness: CreddHarness, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = harness.environment.merging(extra) { $1 }
        environment["PATH"] =
            URL(fileURLWithPath: CreddHarness.binary).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return environment
    }

    func shell(_ harness: CreddHarness, _ argv: [String], _ extra: [String: String] = [:]) throws -> ChildProcess.Output {
        try ChildProcess.run(argv, environment: userEnvironment(harness, extra), timeout: 60)
    }

    /// A shell that ran `eval "$(credd env dev)"` before a restart still gets credentials after
    /// it: the token it holds is kept, for SDKs that read the token as for those that read its file.
    @Test func aShellThatRanCreddEnvKeepsWorkingAcrossARestart() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        let tokenFile = harness.runtimeDirectory + "/credd/token"
        let tokenBefore = try String(contentsOfFile: tokenFile, encoding: .utf8)
        let evaluated = harness.directory.file("evaluated")
        let restarted = harness.directory.file("restarted")
        // The shell evaluates, says so, and waits (bounded) for the restart before calling STS.
        let script = #"""
            eval "$(credd env dev)" || exit 1
            touch "$EVALUATED"
            for _ in $(seq 1 600); do [ -e "$RESTARTED" ] && break; sleep 0.1; done
            [ -e "$RESTARTED" ] || { echo "no restart within 60 s" >&2; exit 1; }
            for only in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN; do
                (unset "$only" && aws sts get-caller-identity --output text) || exit 1
            done
            """#
        let output = harness.directory.file("shell.out")
        let descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let shell = try SpawnedProcess(
            ["bash", "-c", script], environment: userEnvironment(harness, ["EVALUATED": evaluated, "RESTARTED": restarted]),
            stdout: descriptor, stderr: descriptor)
        try harness.waitUntil { FileManager.default.fileExists(atPath: evaluated) }

        #expect(try harness.stop() == 0)
        try harness.start()
        try harness.waitUntil { (try? harness.cli(["status"]).status) == 0 }
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == tokenBefore, "the token is kept across the restart")
        FileManager.default.createFile(atPath: restarted, contents: nil)

        let status = try shell.wait(timeout: 90)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(status == 0, "\(text)")
        #expect(text.components(separatedBy: Self.role).count == 3, "both calls succeed: \(text)")
        #expect(try harness.stop() == 0)
    }

    /// bash and zsh evaluate, fish sources (the syntax chosen from `$SHELL`); a second
    /// `credd env` drops the first one's region, and `--unset` leaves nothing of credd's.
    @Test func everyShellSwitchesProfilesAndUnsets() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        let show = #"printf '%s|%s|%s\n' "${AWS_CONTAINER_CREDENTIALS_FULL_URI-none}" "${AWS_REGION-none}" "${CREDD_ENV_SET-none}""#
        let base = "http://127.0.0.1:\(harness.endpointPort)/v1/credentials/"
        for shellPath in ["/bin/bash", "/usr/bin/zsh"] {
            let script = """
                eval "$(credd env dev)" && aws sts get-caller-identity --output text && \(show)
                eval "$(credd env mfa)" && \(show)
                eval "$(credd env --unset)" && \(show)
                """
            let output = try shell(harness, [shellPath, "-c", script], ["SHELL": shellPath])
            #expect(output.status == 0, "\(shellPath): \(output.stderr)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4, "\(shellPath): \(output.stdout)")
            guard lines.count == 4 else { continue }
            #expect(lines[0].contains(Self.role))
            #expect(lines[1].hasPrefix(base + "dev|eu-west-1|AWS_CONTAINER_CREDENTIALS_FULL_URI "), "\(shellPath)")
            #expect(lines[2].hasPrefix(base + "mfa|none|AWS_CONTAINER_CREDENTIALS_FULL_URI "), "\(shellPath): the region of dev is gone")
            #expect(lines[3] == "none|none|none", "\(shellPath)")
        }
        let fish = try shell(
            harness,
            [
                "fish", "--no-config", "-c",
                """
                credd env dev | source; and aws sts get-caller-identity --output text
                credd env mfa | source; and set -q AWS_REGION; or echo "no region"
                credd env --unset | source; set -q AWS_CONTAINER_CREDENTIALS_FULL_URI; or echo "unset"
                """,
            ], ["SHELL": "/usr/bin/fish"])
        #expect(fish.status == 0, "\(fish.stderr)")
        #expect(fish.stdout.contains(Self.role))
        #expect(fish.stdout.contains("no region\nunset\n"), "\(fish.stdout)")
        let forced = try harness.cli(["env", "dev", "--shell", "fish"])
        #expect(forced.stdout.contains("set -gx AWS_REGION 'eu-west-1'"))
        let both = try harness.cli(["env", "--unset", "dev"])
        #expect(both.status == 64 && both.stderr.contains("--unset takes no profile"), "\(both.stderr)")
        let neither = try harness.cli(["env"])
        #expect(neither.status == 64 && neither.stderr.contains("give a profile"), "\(neither.stderr)")
        #expect(try harness.stop() == 0)
    }

    /// A token file that is no longer safe to read (here: readable by others) is refused, with
    /// what to do, and nothing is printed for a shell to evaluate.
    @Test func anUnsafeTokenFileIsRefused() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        let tokenFile = harness.runtimeDirectory + "/credd/token"
        try #require(chmod(tokenFile, 0o644) == 0)
        for command in [["env", "dev"], ["exec", "dev", "--", "true"]] {
            let output = try harness.cli(command)
            #expect(output.status == 1, "\(command)")
            #expect(output.stdout.isEmpty)
            #expect(output.stderr.contains("cannot read the container token in \(tokenFile); restart the daemon"), "\(output.stderr)")
        }
        #expect(try harness.stop() == 0)
    }

    /// `credd exec dev` on a terminal opens the user's shell with the credentials' environment,
    /// marked, where a nested `credd exec` warns; the shell's exit status is credd's.
    @Test(.enabled(if: PtySession.isAvailable, "python3 with pexpect is not installed: run scripts/install-deps"))
    func execOpensTheUsersShellOnATerminal() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        let session = try PtySession.run(
            ["env", "SHELL=/bin/bash", CreddHarness.binary, "exec", "dev"],
            steps: [
                .init(expect: "[$#] ", send: #"aws sts get-caller-identity --output text; echo "profile=$CREDD_PROFILE""#),
                .init(expect: "assumed-role/Developer/alice"),
                .init(expect: "profile=dev", send: "\(CreddHarness.binary) exec dev -- true"),
                .init(expect: "already inside credd exec for profile dev", send: "exit 7"),
            ],
            harness: harness)
        #expect(session.status == 7, "\(session.transcript)")
        #expect(try harness.stop() == 0)
    }

    /// Without `$SHELL`, /bin/sh; a command goes with or without `--`; a missing one exits 127.
    @Test func execRunsShCommandsAndReportsAMissingProgram() throws {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        var environment = userEnvironment(harness)
        environment["SHELL"] = nil
        let sh = try ChildProcess.run(
            [CreddHarness.binary, "exec", "dev"], environment: environment, stdin: "echo \"$0 $CREDD_PROFILE\"\n", timeout: 60)
        #expect(sh.status == 0, "\(sh.stderr)")
        #expect(sh.stdout == "/bin/sh dev\n")
        for separator in [[], ["--"]] {
            let argv = [CreddHarness.binary, "exec", "dev"] + separator + ["aws", "sts", "get-caller-identity", "--output", "text"]
            let output = try shell(harness, argv)
            #expect(output.status == 0, "\(argv): \(output.stderr)")
            #expect(output.stdout.contains(Self.role))
            #expect(!output.stderr.contains("already inside"))
        }
        let missing = try shell(harness, [CreddHarness.binary, "exec", "dev", "--", "no-such-program-credd"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("cannot run no-such-program-credd"))
        #expect(try harness.stop() == 0)
    }
}
