import CreddCore
import CreddTestSupport
import Foundation
import Testing

/// The real `credd` binary on a private session bus with python3-dbusmock's notification daemon
/// (which logs every call it gets), and with a fake logind on a private "system" bus.
@Suite(
    .serialized,
    .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"),
    .enabled(if: PrivateBus.isAvailable, "dbus-daemon and python3-dbusmock are not installed: run scripts/install-deps"))
struct DesktopIntegrationTests {
    static let notifications = "org.freedesktop.Notifications"

    struct Status: Decodable {
        struct Daemon: Decodable { let desktop: String? }
        struct Profile: Decodable {
            let name: String
            let state: String
            let next_refresh: String?
        }
        let daemon: Daemon
        let profiles: [Profile]
    }

    func status(_ harness: CreddHarness) throws -> Status? {
        try? JSONDecoder().decode(Status.self, from: Data(harness.cli(["status", "--json"]).stdout.utf8))
    }

    /// A daemon whose `mfa` waits for `credd login` (no `mfa_process`), on `bus`.
    func startWaitingDaemon(on bus: PrivateBus, moto: MotoServer, extraSettings: String = "", path: String? = nil) throws -> CreddHarness {
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        let config = DaemonEndToEndTests.config(port: harness.endpointPort, mfaProcess: false)
            .replacingOccurrences(of: "imds_profile = dev\n", with: "imds_profile = dev\n\(extraSettings)\n")
        try harness.writeConfig(config)
        var environment = ["DBUS_SESSION_BUS_ADDRESS": bus.address]
        if let path { environment["PATH"] = path }
        try harness.start(environment: environment)
        return harness
    }

    /// A daemon whose `mfa` waits for `credd login`, with no session bus.
    func startDaemonWithoutDesktop() async throws -> CreddHarness {
        let moto = try await MotoServer.start()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort, mfaProcess: false))
        try harness.start()
        return harness
    }

    /// moto, a private session bus and dbusmock's notification daemon logging every call.
    final class NotificationDesktop {
        let moto: MotoServer
        let bus: PrivateBus
        let directory: TemporaryDirectory
        let log: String
        private let server: SpawnedProcess

        init(capabilities: String? = "body actions") async throws {
            moto = try await MotoServer.start()
            bus = try PrivateBus()
            directory = try TemporaryDirectory(prefix: "credd-desktop")
            log = directory.file("notifications.log")
            server = try bus.startMock(
                template: "notification_daemon", owning: DesktopIntegrationTests.notifications,
                parameters: capabilities.map { #"{"capabilities": "\#($0)"}"# } ?? "{}", log: log)
        }

        deinit { server.signal(SIGTERM) }

        /// The user presses "Enter code" on notification `id`.
        func pressEnterCode(on id: Int) throws {
            try bus.emitFromMock(
                name: DesktopIntegrationTests.notifications, path: "/org/freedesktop/Notifications", interface: DesktopIntegrationTests.notifications,
                member: "ActionInvoked", signature: "us", arguments: #"[<uint32 \#(id)>, <"enter-code">]"#)
        }
    }

    func waitForLog(_ path: String, _ harness: CreddHarness, _ condition: (String) -> Bool) throws -> String {
        var text = ""
        try harness.waitUntil(timeout: 20) {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return condition(text)
        }
        return text
    }

    @Test func aProfileWaitingForACodeIsNotifiedWithEnterCodeWhichRunsTheCommandAndLoginWithdrawsIt() async throws {
        let desktop = try await NotificationDesktop()
        let log = desktop.log
        let marker = desktop.directory.file("action-ran")
        let script = try desktop.directory.write("enter-code", "#!/bin/sh\necho \"$CREDD_PROFILE $*\" > \(marker)\n", mode: 0o700)
        let harness = try startWaitingDaemon(on: desktop.bus, moto: desktop.moto, extraSettings: "notify_action_command = \(script) --from-test")

        // One notification, for the profile that waits (not for `dev`, chained on it).
        let shown = try waitForLog(log, harness) { $0.contains("Notify ") }
        let notify = try #require(shown.split(separator: "\n").first { $0.contains("Notify ") })
        #expect(notify.contains(#""AWS profile mfa needs an MFA code""#), "\(notify)")
        #expect(notify.contains(#"["enter-code", "Enter code"]"#), "\(notify)")
        #expect(notify.contains("credd login mfa"), "\(notify)")
        #expect(shown.components(separatedBy: "Notify ").count == 2, "\(shown)")
        #expect(try status(harness)?.daemon.desktop == "notifications on")

        // "Enter code" runs notify_action_command with the profile.
        try desktop.pressEnterCode(on: 1)
        try harness.waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: marker) }
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "mfa --from-test mfa\n")

        // `credd login` resolves it: the notification is withdrawn.
        #expect(try harness.cli(["login", "mfa", "--code", "-"], stdin: "123456\n").status == 0)
        let closed = try waitForLog(log, harness) { $0.contains("CloseNotification 1") }
        #expect(!closed.contains(DaemonEndToEndTests.longTermSecret))
        for secret in harness.secretsInHome() { #expect(!closed.contains(secret)) }
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
        // The bus is still there: a shutdown is not worth a line about it.
        #expect(!harness.daemonLog().contains("session bus went away"))
    }

    /// A fake dialog `program` (zenity or kdialog) first on PATH that records its arguments,
    /// one per line with `--` after each call, and answers with `answers` in turn (`cancel`:
    /// exit 1, as Cancel does). Error dialogs (`--error`) are recorded and answer nothing.
    func fakeDialog(_ program: String = "zenity", in desktop: NotificationDesktop, answers: [String]) throws -> (path: String, argv: String) {
        let bin = desktop.directory.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let argv = desktop.directory.file("\(program)-argv")
        let count = desktop.directory.file("\(program)-count")
        let cases = answers.enumerated().map { "\($0.offset + 1)) \($0.element == "cancel" ? "exit 1" : "echo \($0.element)") ;;" }
        _ = try desktop.directory.write(
            "bin/\(program)",
            """
            #!/bin/sh
            for a in "$@"; do printf '%s\\n' "$a"; done >> \(argv); echo -- >> \(argv)
            case " $* " in *" --error"*) exit 0 ;; esac
            n=$(( $(cat \(count) 2>/dev/null || echo 0) + 1 )); echo $n > \(count)
            case $n in
            \(cases.joined(separator: "\n"))
            *) exit 1 ;;
            esac
            """, mode: 0o700)
        return (bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), argv)
    }

    func calls(_ argv: String) throws -> [String] {
        try String(contentsOfFile: argv, encoding: .utf8).components(separatedBy: "--\n").filter { !$0.isEmpty }
    }

    @Test func enterCodeAsksInADialogWhereZenityIsInstalledAndHandsTheCodeOverOutsideArgv() async throws {
        let desktop = try await NotificationDesktop()
        let zenity = try fakeDialog(in: desktop, answers: ["12ab", "246810"])
        let harness = try startWaitingDaemon(on: desktop.bus, moto: desktop.moto, path: zenity.path)
        _ = try waitForLog(desktop.log, harness) { $0.contains("Notify ") }

        try desktop.pressEnterCode(on: 1)
        try harness.waitUntil(timeout: 30) { try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "fresh" }
        _ = try waitForLog(desktop.log, harness) { $0.contains("CloseNotification 1") }
        let calls = try calls(zenity.argv)
        #expect(
            calls.first
                == "--entry\n--title=credd: MFA code for AWS profile mfa\n--text=Enter MFA code for arn:aws:iam::123456789012:mfa/alice (profile mfa)\n"
        )
        // A mistyped code is asked for again, saying why.
        #expect(calls.count == 2 && calls[1].contains("--text=an MFA code is six digits; try again\nEnter MFA code for"), "\(calls)")
        #expect(!calls.joined().contains("246810"), "the code never passes through arguments")
        #expect(!harness.daemonLog().contains("246810"))
        #expect(harness.daemonLog().contains(#"desktop: "Enter code" for mfa: running"#))
        #expect(try harness.stop() == 0)
    }

    @Test func cancellingTheDialogChangesNothing() async throws {
        let desktop = try await NotificationDesktop()
        let zenity = try fakeDialog(in: desktop, answers: ["cancel"])
        let harness = try startWaitingDaemon(on: desktop.bus, moto: desktop.moto, path: zenity.path)
        _ = try waitForLog(desktop.log, harness) { $0.contains("Notify ") }

        try desktop.pressEnterCode(on: 1)
        try harness.waitUntil(timeout: 20) { harness.daemonLog().contains("for mfa exited with status 1") }
        #expect(try calls(zenity.argv).count == 1)
        #expect(try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "needs_mfa")
        #expect(!((try? String(contentsOfFile: desktop.log, encoding: .utf8)) ?? "").contains("CloseNotification"), "the notification stays")
        #expect(try harness.stop() == 0)
    }

    @Test func onKDETheDialogIsKdialogAndThreeBadCodesEndInAnErrorDialog() async throws {
        let desktop = try await NotificationDesktop()
        _ = try fakeDialog("zenity", in: desktop, answers: [])
        let kdialog = try fakeDialog("kdialog", in: desktop, answers: ["1", "22", "abcdef"])
        let harness = try startWaitingDaemon(on: desktop.bus, moto: desktop.moto)
        try harness.waitUntil { try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "needs_mfa" }

        let login = try harness.cli(["login", "mfa", "--dialog"], extra: ["PATH": kdialog.path, "XDG_CURRENT_DESKTOP": "KDE"])
        #expect(login.status == 1)
        #expect(login.stderr.contains("no valid MFA code after 3 attempts"), "\(login.stderr)")
        let calls = try calls(kdialog.argv)
        #expect(calls.count == 4, "\(calls)")
        #expect(
            calls.first
                == "--title\ncredd: MFA code for AWS profile mfa\n--inputbox\nEnter MFA code for arn:aws:iam::123456789012:mfa/alice (profile mfa)\n")
        #expect(
            calls.last == "--title\ncredd: MFA code for AWS profile mfa\n--error\nno valid MFA code after 3 attempts (an MFA code is six digits)\n")
        #expect(!FileManager.default.fileExists(atPath: desktop.directory.file("zenity-argv")), "KDE's own dialog comes first")
        #expect(try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "needs_mfa")
        #expect(try harness.stop() == 0)
    }

    @Test func anEnterCodeCommandThatCannotStartIsLogged() async throws {
        let desktop = try await NotificationDesktop()
        let harness = try startWaitingDaemon(
            on: desktop.bus, moto: desktop.moto, extraSettings: "notify_action_command = \(desktop.directory.file("missing-prompt"))")
        _ = try waitForLog(desktop.log, harness) { $0.contains("Notify ") }
        try desktop.pressEnterCode(on: 1)
        try harness.waitUntil(timeout: 20) { harness.daemonLog().contains("missing-prompt for mfa could not start") }
        #expect(try harness.stop() == 0)
    }

    @Test func withoutASessionBusNothingIsSentAndStatusSaysSo() async throws {
        let harness = try await startDaemonWithoutDesktop()
        try harness.waitUntil { try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "needs_mfa" }
        #expect(try status(harness)?.daemon.desktop == "no session bus")
        let table = try harness.cli(["status"]).stdout
        #expect(table.split(separator: "\n").contains("desktop: no session bus"), "\(table)")
        #expect(harness.daemonLog().contains("desktop: no session bus"))
        #expect(!harness.daemonLog().contains("desktop: notified"))
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }

    @Test func aSessionBusThatComesLaterIsFoundAndOneThatGoesAwayIsLetGo() async throws {
        let moto = try await MotoServer.start()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort, mfaProcess: false))
        let socket = harness.directory.file("late-bus")
        try harness.start(environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=\(socket)"])
        try harness.waitUntil { try status(harness)?.daemon.desktop == "no session bus" }

        // The desktop session starts after the daemon.
        let bus = try PrivateBus(socket: socket)
        let log = harness.directory.file("notifications.log")
        let mock = try bus.startMock(template: "notification_daemon", owning: Self.notifications, log: log)
        defer { mock.signal(SIGTERM) }
        _ = try waitForLog(log, harness) { $0.contains(#"Notify "credd" 0 "dialog-password" "AWS profile mfa needs an MFA code""#) }
        #expect(try status(harness)?.daemon.desktop == "notifications on")

        bus.stop()
        try harness.waitUntil { try status(harness)?.daemon.desktop == "no session bus" }
        #expect(harness.daemonLog().contains("desktop: the session bus went away"))
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }

    /// Without DBUS_SESSION_BUS_ADDRESS credd waits for `$XDG_RUNTIME_DIR/bus` to be created
    /// instead of looking every 10 seconds: a bus that appears is found within moments, again
    /// after one went away. (A look every 10 s would find both this soon in 1 run of 6.)
    @Test func aSessionBusCreatedInTheRuntimeDirectoryIsFoundAtOnce() async throws {
        let harness = try await startDaemonWithoutDesktop()
        try harness.waitUntil { try status(harness)?.daemon.desktop == "no session bus" }
        let socket = harness.runtimeDirectory + "/bus"

        for round in 1...2 {
            // A desktop session starts; its bus appears in the runtime directory once its
            // notification server runs (as with D-Bus activation).
            let bus = try PrivateBus()
            let log = harness.directory.file("notifications-\(round).log")
            let mock = try bus.startMock(template: "notification_daemon", owning: Self.notifications, log: log)
            defer { mock.signal(SIGTERM) }
            let startedAt = Date()
            try FileManager.default.createSymbolicLink(atPath: socket, withDestinationPath: String(bus.address.dropFirst("unix:path=".count)))
            _ = try waitForLog(log, harness) { $0.contains(#"Notify "credd" 0 "dialog-password" "AWS profile mfa needs an MFA code""#) }
            #expect(Date().timeIntervalSince(startedAt) < 4, "round \(round): found by the watch, not by a look every 10 s")
            #expect(try status(harness)?.daemon.desktop == "notifications on")

            // The session ends: its socket goes away, then its bus.
            try FileManager.default.removeItem(atPath: socket)
            bus.stop()
            try harness.waitUntil { try status(harness)?.daemon.desktop == "no session bus" }
        }
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }

    @Test func notificationsOffSendsNothing() async throws {
        let desktop = try await NotificationDesktop(capabilities: nil)
        let log = desktop.log
        let harness = try startWaitingDaemon(on: desktop.bus, moto: desktop.moto, extraSettings: "notifications = off")
        try harness.waitUntil { try status(harness)?.profiles.first { $0.name == "mfa" }?.state == "needs_mfa" }
        try harness.waitUntil { try status(harness)?.daemon.desktop == "notifications off" }
        #expect(!((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Notify "))
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }

    @Test(arguments: [false, true])
    func afterResumeAFailingRenewalStartsWithinASecond(forgedFirst: Bool) async throws {
        let bus = try PrivateBus()
        let directory = try TemporaryDirectory(prefix: "credd-resume")
        let mock = try bus.startMock(
            template: "logind", owning: "org.freedesktop.login1", system: true, log: directory.file("logind.log"))
        defer { mock.signal(SIGTERM) }
        // STS is a port nothing listens on: every renewal fails and backs off.
        let harness = try CreddHarness(stsEndpoint: "http://127.0.0.1:\(try FreePort.find())")
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(
            """
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile dev]
            source_profile = alice-long-term

            """)
        try harness.start(environment: ["DBUS_SYSTEM_BUS_ADDRESS": bus.address, "CREDD_LOG_LEVEL": "debug"])
        // Wait for a backoff long enough that only the resume can explain a prompt retry.
        var planned = Date()
        try harness.waitUntil(timeout: 120) {
            guard let next = try status(harness)?.profiles.first?.next_refresh, let date = AWSTimestamp.parse(next) else { return false }
            planned = date
            // The forged signal's two seconds come first.
            return date.timeIntervalSinceNow > (forgedFirst ? 8 : 4)
        }
        let attemptsBefore = harness.daemonLog().components(separatedBy: "dev: refreshing").count
        if forgedFirst {
            // Any peer can send a signal straight to credd's connection (on the system bus, any
            // user may): only logind's own PrepareForSleep counts.
            let daemon = try #require(harness.daemonPID)
            let names = try bus.uniqueNames(of: daemon)
            try #require(!names.isEmpty, "credd has no connection on the bus")
            for name in names {
                try bus.sendSignal(
                    to: name, path: "/org/freedesktop/login1", interface: "org.freedesktop.login1.Manager", member: "PrepareForSleep",
                    arguments: ["boolean:false"])
            }
            try await Task.sleep(for: .seconds(2))
            #expect(!harness.daemonLog().contains("resume: the machine woke up"), "a forged resume was believed")
        }
        let resumedAt = Date()
        try bus.emitFromMock(
            name: "org.freedesktop.login1", path: "/org/freedesktop/login1", interface: "org.freedesktop.login1.Manager",
            member: "PrepareForSleep", signature: "b", arguments: "[<false>]")
        try harness.waitUntil(timeout: 5) { harness.daemonLog().components(separatedBy: "dev: refreshing").count > attemptsBefore }
        let started = Date().timeIntervalSince(resumedAt)
        #expect(started < 1, "the renewal started \(started) s after the resume")
        #expect(Date() < planned, "it started before the backoff would have")
        #expect(harness.daemonLog().contains("resume: the machine woke up"))
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }
}
