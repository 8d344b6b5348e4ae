import CreddCore
import CreddSSO
import CreddTestSupport
import Foundation
import Testing

/// The real `credd` binary with an Identity Center session that needs a sign-in, on a private
/// session bus with python3-dbusmock's notification daemon (which logs every call it gets).
@Suite(
    .serialized,
    .enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"),
    .enabled(if: PrivateBus.isAvailable, "dbus-daemon and python3-dbusmock are not installed: run scripts/install-deps"))
struct SSODesktopTests {
    static let notifications = "org.freedesktop.Notifications"

    /// The fake Identity Center with moto, a private bus with the notification daemon, and credd
    /// (not started) with the SSO config and `settings` in `[credd]`.
    final class Desktop {
        let fake: FakeSSO
        let bus: PrivateBus
        let harness: CreddHarness
        let log: String
        let endpoints: [String: String]
        private let server: SpawnedProcess

        init(settings: String) async throws {
            fake = try await FakeSSO.start(withMoto: true)
            bus = try PrivateBus()
            harness = try CreddHarness(stsEndpoint: fake.moto?.endpoint)
            log = harness.directory.file("notifications.log")
            endpoints = ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint]
            server = try bus.startMock(
                template: "notification_daemon", owning: SSODesktopTests.notifications, parameters: #"{"capabilities": "body actions"}"#,
                log: log)
            try harness.writeConfig("[credd]\n\(settings)\n\n" + SSOFixtures.config)
        }

        deinit {
            server.signal(SIGTERM)
            let fake = fake
            Task { await fake.stop() }
        }

        /// Waits until the notification daemon's log satisfies `condition`.
        func waitForLog(_ condition: (String) -> Bool) throws -> String {
            var text = ""
            try harness.waitUntil(timeout: 30) {
                text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return condition(text)
            }
            return text
        }

        /// The user presses "Sign in" on notification `id`.
        func pressSignIn(on id: Int) throws {
            try bus.emitFromMock(
                name: SSODesktopTests.notifications, path: "/org/freedesktop/Notifications", interface: SSODesktopTests.notifications,
                member: "ActionInvoked", signature: "us", arguments: #"[<uint32 \#(id)>, <"sign-in">]"#)
        }
    }

    @Test func aSignInNoticeHasASignInButtonThatRunsTheConfiguredCommandWithTheSession() async throws {
        let directory = try TemporaryDirectory(prefix: "credd-sso-desktop")
        let marker = directory.file("action-ran")
        let script = try directory.write("sign-in", "#!/bin/sh\necho \"$CREDD_PROFILE $*\" > \(marker)\n", mode: 0o700)
        let desktop = try await Desktop(settings: "notify_action_command = \(script) --from-test")
        let harness = desktop.harness
        try harness.start(environment: desktop.endpoints.merging(["DBUS_SESSION_BUS_ADDRESS": desktop.bus.address]) { $1 })
        defer { _ = try? harness.stop() }

        // One notification, for the SSO profile (not for `chained`, which waits on it).
        let shown = try desktop.waitForLog { $0.contains("Notify ") }
        let notify = try #require(shown.split(separator: "\n").first { $0.contains("Notify ") })
        #expect(notify.contains(#""AWS profile dev-sso needs an IAM Identity Center sign-in""#), "\(notify)")
        #expect(notify.contains(#"["sign-in", "Sign in"]"#) && !notify.contains("enter-code"), "\(notify)")
        #expect(notify.contains("credd login corp"), "\(notify)")
        #expect(shown.components(separatedBy: "Notify ").count == 2, "\(shown)")

        try desktop.pressSignIn(on: 1)
        try harness.waitUntil(timeout: 20) { FileManager.default.fileExists(atPath: marker) }
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "dev-sso --from-test corp\n")
        #expect(harness.daemonLog().contains(#"desktop: "Sign in" for dev-sso"#))
    }

    @Test func signInRunsCreddLoginWhichSignsInThroughTheBrowserAndTheNoticeIsWithdrawn() async throws {
        let desktop = try await Desktop(settings: "")
        let harness = desktop.harness
        // The browser credd login opens: it follows the fake's redirect back to credd's listener.
        let browser = "python3 " + (try harness.directory.write("browser.py", SSOCommandLineTests.followingBrowser))
        try harness.start(
            environment: desktop.endpoints.merging(["DBUS_SESSION_BUS_ADDRESS": desktop.bus.address, "CREDD_BROWSER": browser]) { $1 })
        defer { _ = try? harness.stop() }
        _ = try desktop.waitForLog { $0.contains(#"["sign-in", "Sign in"]"#) }

        try desktop.pressSignIn(on: 1)
        try harness.waitUntil(timeout: 60) {
            let states =
                ((try? JSONSerialization.jsonObject(with: Data(harness.cli(["status", "--json"]).stdout.utf8)) as? [String: Any])?[
                    "profiles"] as? [[String: Any]])?.map { $0["state"] as? String }
            return states == ["fresh", "fresh"]
        }
        #expect(try await desktop.fake.count("grant authorization_code") == 1)
        let closed = try desktop.waitForLog { $0.contains("CloseNotification 1") }
        let token = try #require(try SSOTokenCache(home: harness.home).load(sessionName: "corp", startURL: corpSession.startURL))
        expectNoSecrets(closed + harness.daemonLog(), [token.accessToken, token.refreshToken, token.clientSecret])
        #expect(try harness.stop() == 0, "credd stops cleanly: \(harness.daemonLog().suffix(600))")
    }
}
