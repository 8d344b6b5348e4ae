import CreddTestSupport
import Foundation
import Testing

/// The real binary under systemd's protocols: sd_notify over NOTIFY_SOCKET, and socket
/// activation through `systemd-socket-activate`.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct SystemdIntegrationTests {
    static func config(_ port: Int) -> String {
        """
        [credd]
        listen = 127.0.0.1:\(port)

        [profile mfa]
        source_profile = alice-long-term
        mfa_serial = arn:aws:iam::123456789012:mfa/alice
        mfa_process = printf 123456

        [profile dev]
        source_profile = mfa
        role_arn = arn:aws:iam::123456789012:role/Developer
        """
    }

    static let credentials = """
        [alice-long-term]
        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
        aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYLONGTERMKEY

        """

    /// `systemd-socket-activate` drops the environment except what `-E` names.
    static let passedVariables = [
        "PATH", "HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "AWS_ENDPOINT_URL_STS", "AWS_DEFAULT_REGION",
        "AWS_EC2_METADATA_DISABLED", "NOTIFY_SOCKET", "WATCHDOG_USEC",
    ]

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate")))
    func behavesAsASocketActivatedNotifyService() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(Self.credentials)
        // The config names another port: the activated socket must win.
        try harness.writeConfig(Self.config(try FreePort.find()))
        let notifications = try DatagramListener(path: harness.directory.file("notify.sock"))
        try harness.start(
            launcher: ["systemd-socket-activate", "-l", "127.0.0.1:\(harness.endpointPort)", "--fdname=endpoint"]
                + Self.passedVariables.flatMap { ["-E", $0] },
            environment: ["NOTIFY_SOCKET": notifications.path, "WATCHDOG_USEC": "2000000"])
        // systemd-socket-activate starts credd on the first connection.
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }

        try notifications.waitFor { $0.contains("READY=1") }
        #expect(FileManager.default.fileExists(atPath: harness.runtimeDirectory + "/credd/control.sock"), "READY=1 only once the sockets exist")
        #expect(try harness.cli(["status"]).status == 0, "READY=1 only after the first refresh pass")
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("2 fresh") }

        // Served on the activated socket, not the configured port.
        let identity = try harness.run(["bash", "-c", "eval \"$(\(CreddHarness.binary) env dev)\" && aws sts get-caller-identity --output text"])
        #expect(identity.status == 0, "\(identity.stderr)")
        #expect(identity.stdout.contains("assumed-role/Developer"))
        #expect(harness.daemonLog().contains("socket_activated=true"))

        // Watchdog pings at half of WATCHDOG_USEC.
        let pings = notifications.collect(for: 3) { $0.contains("WATCHDOG=1") }
        #expect(pings >= 2, "expected a ping every second, got \(pings) in 3 s")

        // A state change shows in STATUS=.
        try harness.writeConfig(
            Self.config(try FreePort.find()) + """

                [profile ops]
                source_profile = alice-long-term
                mfa_serial = arn:aws:iam::123456789012:mfa/alice
                """)
        try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("needs MFA") }
        // A file edit reloads quietly: RELOADING=1 answers SIGHUP only.
        #expect(notifications.received.allSatisfy { !$0.contains("RELOADING=1") })

        harness.signal(SIGHUP)
        try notifications.waitFor { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }
        try notifications.waitFor { $0.contains("READY=1") }
        #expect(harness.daemonIsRunning)
        #expect(try harness.cli(["credential-process", "dev"]).status == 0, "still serving after a reload")

        // An idle client must not hold the shutdown open.
        let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(idle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(harness.endpointPort).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        #expect(try harness.stop(timeout: 10) == 0)
        try notifications.waitFor { $0.contains("STOPPING=1") }
    }
}

/// What `credd run` does at start whatever its config: no core dumps, and a config that cannot be
/// loaded never stops it.
@Suite(.serialized)
struct DaemonStartTests {
    /// Root without capabilities: a same-uid process can read a dumpable process's
    /// /proc/PID/environ only when both have no more capabilities than the other, so credd and
    /// the probe both drop all of them.
    static let withoutCapabilities = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]

    @Test(.enabled(if: getuid() == 0 && ChildProcess.executable(named: "setpriv") != nil, "needs root and setpriv (util-linux)"))
    func theDaemonIsNotDumpable() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeConfig("[credd]\nlisten = 127.0.0.1:\(harness.endpointPort)\n")
        try harness.start(launcher: Self.withoutCapabilities)
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }
        let pid = try #require(harness.daemonPID)

        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        #expect(
            limits.split(separator: "\n").contains {
                $0.hasPrefix("Max core file size") && $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"]
            }, "\(limits)")
        // The probe reads a dumpable neighbour of its own (showing it could) and then credd.
        let probe = try ChildProcess.run(
            Self.withoutCapabilities + [
                "sh", "-c",
                "sleep 30 & neighbour=$!; cat /proc/$neighbour/environ >/dev/null && echo neighbour-readable; kill $neighbour; cat /proc/\(pid)/environ >/dev/null",
            ],
            environment: harness.environment, timeout: 20)
        #expect(probe.stdout.contains("neighbour-readable"), "the probe cannot tell: \(probe.stderr)")
        #expect(probe.status != 0 && probe.stderr.contains("Permission denied"), "credd's environment was readable: \(probe.stderr)")
        #expect(try harness.stop(timeout: 10) == 0)
    }

    /// A client that read the token file just before an on-demand start must not be refused by
    /// the daemon it started (docs/design.md: the token is kept across restarts).
    @Test func theContainerTokenSurvivesARestart() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeConfig("[credd]\nlisten = 127.0.0.1:\(harness.endpointPort)\n")
        let tokenPath = harness.runtimeDirectory + "/credd/token"
        try harness.start()
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }
        let first = try String(contentsOfFile: tokenPath, encoding: .utf8)
        #expect(try harness.stop(timeout: 10) == 0)
        try harness.start()
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }
        // Compared apart from #expect, which would print a differing token.
        let kept = try String(contentsOfFile: tokenPath, encoding: .utf8) == first
        #expect(kept, "the restarted daemon made a new container token")
        #expect(try harness.stop(timeout: 10) == 0)
    }

    /// Started by socket activation on a free port: without a config credd would bind 9911.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate")))
    func aMissingConfigLeavesTheDaemonRunningUntilOneIsWritten() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeCredentials(SystemdIntegrationTests.credentials)
        try harness.start(
            launcher: ["systemd-socket-activate", "-l", "127.0.0.1:\(harness.endpointPort)", "--fdname=endpoint"]
                + SystemdIntegrationTests.passedVariables.flatMap { ["-E", $0] })
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }
        try harness.waitUntil { try harness.cli(["status", "--json"]).status != 3 }
        let status = try harness.cli(["status", "--json"])
        #expect(status.stdout.contains("no credd config found"), "\(status.stdout)")
        #expect(status.stdout.contains(harness.configPath), "the error names where credd looked: \(status.stdout)")
        #expect(harness.daemonLog().contains("no credd config found"))
        #expect(harness.daemonIsRunning)

        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile ops]
            source_profile = alice-long-term
            mfa_serial = arn:aws:iam::123456789012:mfa/alice
            """)
        try harness.waitUntil { try harness.cli(["status", "--json"]).stdout.contains("\"ops\"") }
        #expect(!(try harness.cli(["status", "--json"]).stdout.contains("no credd config found")))
        #expect(try harness.stop(timeout: 10) == 0)
    }
}
