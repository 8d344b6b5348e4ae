import Foundation

/// The real `credd` binary in a throw-away home: its own HOME, XDG dirs, config and credentials
/// file, pointed at an STS emulator. Tests start the daemon, drive the CLI and read the files.
public final class CreddHarness: @unchecked Sendable {
    // `daemon` and `daemonLog` are touched only from the test that owns the harness.
    public let directory: TemporaryDirectory
    public let stsEndpoint: String?
    public let endpointPort: Int
    /// The STS emulator the daemon talks to, kept alive as long as the harness.
    public var emulator: MotoServer?
    private var daemon: SpawnedProcess?
    private var daemonLogDescriptor: Int32 = -1
    private var daemonLogPath: String { directory.file("credd.log") }
    /// Everything credd printed to the tests (CLI output) and every secret seen in this home,
    /// for the run-wide leak scan (`scripts/leak-scan`).
    private var outputs: [String] = []
    private var secretsSeen: Set<String> = []

    public var home: String { directory.file("home") }
    public var configPath: String { directory.file("home/.config/credd/config") }
    public var credentialsPath: String { directory.file("home/.aws/credentials") }
    public var runtimeDirectory: String { directory.file("run") }

    /// The built `credd` next to the test bundle.
    public static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("credd").path
    }

    public init(stsEndpoint: String?) throws {
        self.directory = try TemporaryDirectory(prefix: "credd-it")
        self.stsEndpoint = stsEndpoint
        self.endpointPort = try FreePort.find()
        for sub in ["home/.aws", "home/.config/credd", "run"] {
            try FileManager.default.createDirectory(
                atPath: directory.file(sub), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    deinit {
        if let daemon, daemon.isRunning {
            daemon.signal(SIGKILL)
            _ = try? daemon.wait(timeout: 10)
        }
        if daemonLogDescriptor >= 0 { close(daemonLogDescriptor) }
        recordForLeakScan()
    }

    /// The secrets that exist in this home right now: every secret key and session token in the
    /// credentials file, the container API token, and the IAM Identity Center access and refresh
    /// tokens and client secrets in `~/.aws/sso/cache`.
    public func secretsInHome() -> [String] {
        let token = (try? String(contentsOfFile: runtimeDirectory + "/credd/token", encoding: .utf8)).map { [$0] } ?? []
        return token + ((try? secretsInCredentialsFile()) ?? []) + secretsInSSOCache()
    }

    /// The bearer secrets of every file in `~/.aws/sso/cache` (tokens and client registrations).
    public func secretsInSSOCache() -> [String] {
        let directory = home + "/.aws/sso/cache"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".json") }.flatMap { name -> [String] in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return [] }
            return ["accessToken", "refreshToken", "clientSecret"].compactMap { object[$0] as? String }
        }
    }

    /// With `CREDD_LEAK_SCAN_DIR` set (scripts/test sets it), writes this home's secrets and
    /// everything credd printed as one JSON record there; `scripts/leak-scan` checks every
    /// output of the run against every secret of the run.
    private func recordForLeakScan() {
        guard let directory = ProcessInfo.processInfo.environment["CREDD_LEAK_SCAN_DIR"] else { return }
        let record: [String: Any] = [
            "source": "swift test: \(self.directory.path)",
            "secrets": Array(secretsSeen.union(secretsInHome())),
            "outputs": outputs + [daemonLog()],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: record) else { return }
        _ = FileManager.default.createFile(atPath: "\(directory)/\(UUID().uuidString).json", contents: data, attributes: [.posixPermissions: 0o600])
    }

    /// The environment credd and the AWS tools run with: nothing from the real user's AWS setup.
    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("CREDD_") }
        env["HOME"] = home
        env["XDG_CONFIG_HOME"] = home + "/.config"
        env["XDG_RUNTIME_DIR"] = runtimeDirectory
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env.removeValue(forKey: "JOURNAL_STREAM")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        // No test reaches the desktop or logind of the machine it runs on; tests that want a
        // bus start a PrivateBus and pass its address.
        env.removeValue(forKey: "DBUS_SESSION_BUS_ADDRESS")
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=\(runtimeDirectory)/no-system-bus"
        // Under systemd, "Enter code" starts its command through systemd-run.
        env.removeValue(forKey: "INVOCATION_ID")
        if let stsEndpoint {
            env["AWS_ENDPOINT_URL_STS"] = stsEndpoint
            env["AWS_ENDPOINT_URL_IAM"] = stsEndpoint
        }
        return env
    }

    public func writeConfig(_ text: String) throws {
        try directory.write("home/.config/credd/config", text)
    }

    public func writeCredentials(_ text: String) throws {
        try directory.write("home/.aws/credentials", text)
    }

    public func credentialsFile() throws -> String {
        try String(contentsOfFile: credentialsPath, encoding: .utf8)
    }

    /// Every secret key and session token the credentials file holds now, for leak checks.
    public func secretsInCredentialsFile() throws -> [String] {
        try credentialsFile().split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, ["aws_secret_access_key", "aws_session_token"].contains(parts[0]) else { return nil }
            return parts[1]
        }
    }

    /// Starts `credd run` in the background, its stderr going to a log file. `launcher` runs
    /// in front of it (e.g. `systemd-socket-activate …`); `environment` adds variables.
    public func start(extraArguments: [String] = [], launcher: [String] = [], environment extra: [String: String] = [:]) throws {
        daemonLogDescriptor = open(daemonLogPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        daemon = try SpawnedProcess(
            launcher + [Self.binary, "run"] + extraArguments, environment: environment.merging(extra) { $1 },
            stdout: daemonLogDescriptor, stderr: daemonLogDescriptor)
    }

    public var daemonIsRunning: Bool { daemon?.isRunning ?? false }
    public var daemonPID: Int32? { daemon?.pid }

    /// Sends SIGTERM and waits (bounded) for the daemon to exit; returns its exit status.
    @discardableResult
    public func stop(timeout: TimeInterval = 20) throws -> Int32 {
        guard let daemon else { throw TestSupportError("the daemon was not started") }
        daemon.signal(SIGTERM)
        do {
            return try daemon.wait(timeout: timeout)
        } catch {
            daemon.signal(SIGKILL)
            _ = try? daemon.wait(timeout: 5)
            throw TestSupportError("credd did not exit within \(timeout) s of SIGTERM")
        }
    }

    public func signal(_ signal: Int32) {
        daemon?.signal(signal)
    }

    public func daemonLog() -> String {
        (try? String(contentsOfFile: daemonLogPath, encoding: .utf8)) ?? ""
    }

    /// Runs a `credd` CLI command against this home; `extra` adds variables (endpoints, a browser).
    public func cli(_ arguments: [String], stdin: String? = nil, extra: [String: String] = [:]) throws -> ChildProcess.Output {
        let output = try ChildProcess.run([Self.binary] + arguments, environment: environment.merging(extra) { $1 }, stdin: stdin)
        secretsSeen.formUnion(secretsInHome())
        // credential-process and env (the container token) exist to hand secrets over, as does
        // `exec … env`, which prints the environment exec gave its command; everything else must not.
        let handsOver =
            ["credential-process", "export-credentials", "env"].contains(arguments.first ?? "")
            || (arguments.first == "exec" && arguments.last == "env")
        if !handsOver {
            outputs.append(output.stdout)
        }
        outputs.append(output.stderr)
        return output
    }

    /// Runs another program (the AWS CLI, python3) with this home's environment plus `extra`.
    public func run(_ arguments: [String], extra: [String: String] = [:]) throws -> ChildProcess.Output {
        try ChildProcess.run(arguments, environment: environment.merging(extra) { $1 })
    }

    /// `docs/status.schema.json`'s complaint about a `credd status --json` output (jsonschema,
    /// in python3), or `nil` when it conforms.
    public func statusSchemaViolation(_ json: String) throws -> String? {
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/status.schema.json").standardized
            .path
        let validation = try run(
            [
                "python3", "-c", "import json, sys, jsonschema; jsonschema.validate(json.loads(sys.argv[2]), json.load(open(sys.argv[1])))", schema,
                json,
            ])
        return validation.status == 0 ? nil : validation.stderr
    }

    /// ``eventually(_:timeout:interval:_:)`` every 100 ms, with the daemon's log in the failure.
    public func waitUntil(timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
        try eventually("the condition; daemon log:\n\(daemonLog())", timeout: .seconds(timeout), interval: .milliseconds(100), condition)
    }
}
