import CreddTestSupport
import Foundation
import Testing

/// `credd console` from the real binary: the daemon's role session (moto), a fake federation
/// endpoint on loopback that records the exact request, and a fake `xdg-open`.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct ConsoleCommandTests {
    static let signinToken = "FAKEsigninTOKENfor-the-console-EXAMPLE-0123456789"

    /// A federation endpoint: `getSigninToken` writes its query to the record file and answers
    /// with a token, or with the status given (`refuse=403`).
    static let federationScript = #"""
        import json, sys, urllib.parse
        from http.server import BaseHTTPRequestHandler, HTTPServer
        port, record, token, status = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                with open(record, "a") as out:
                    out.write(json.dumps({"path": url.path, "query": {k: v[0] for k, v in query.items()}}) + "\n")
                body = json.dumps({"SigninToken": token}).encode() if status == 200 else b"<html>Bad Request</html>"
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        HTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#

    struct Setup {
        let harness: CreddHarness
        let federation: LoopbackServer
        let record: String
        var environment: [String: String] {
            ["CREDD_FEDERATION_ENDPOINT": "http://127.0.0.1:\(federation.port)/federation"]
        }

        /// Every request the fake federation endpoint received, as path and query.
        func requests() throws -> [(path: String, query: [String: String])] {
            guard FileManager.default.fileExists(atPath: record) else { return [] }
            return try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map { line in
                struct Request: Decodable {
                    var path: String
                    var query: [String: String]
                }
                let request = try JSONDecoder().decode(Request.self, from: Data(line.utf8))
                return (request.path, request.query)
            }
        }
    }

    func start(federationStatus: Int = 200) throws -> Setup {
        let harness = try DaemonEndToEndTests().startFreshDaemon()
        let record = harness.directory.file("federation-requests")
        let federation = try LoopbackServer(
            ["python3", "-c", Self.federationScript, "{PORT}", record, Self.signinToken, String(federationStatus)],
            logFile: harness.directory.file("federation.log"))
        return Setup(harness: harness, federation: federation, record: record)
    }

    static let expectedURLTail =
        "/federation?Action=login&Issuer=credd&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1"
        + "&SigninToken=\(signinToken)"

    /// dev's session, as the daemon serves it.
    func devSession(_ harness: CreddHarness) throws -> [String: String] {
        let output = try harness.cli(["credential-process", "dev"])
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return (object ?? [:]).compactMapValues { $0 as? String }
    }

    @Test func printShowsTheSignInURLOfTheRoleSession() throws {
        let setup = try start()
        let output = try setup.harness.cli(["console", "dev", "--print"], extra: setup.environment)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "http://127.0.0.1:\(setup.federation.port)" + Self.expectedURLTail + "\n")
        #expect(output.stderr.isEmpty, "\(output.stderr)")

        let requests = try setup.requests()
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.path == "/federation")
        #expect(request.query["Action"] == "getSigninToken")
        #expect(request.query["SessionDuration"] == nil)
        let session = try JSONDecoder().decode([String: String].self, from: Data((request.query["Session"] ?? "").utf8))
        let served = try devSession(setup.harness)
        #expect(session["sessionId"] == served["AccessKeyId"])
        #expect(session["sessionKey"] == served["SecretAccessKey"])
        #expect(session["sessionToken"] == served["SessionToken"])
        #expect(try setup.harness.stop() == 0)
        #expect(!setup.harness.daemonLog().contains(Self.signinToken))
    }

    @Test func withoutPrintTheBrowserGetsAPrivatePageNotTheURL() throws {
        let setup = try start()
        let opened = setup.harness.directory.file("opened")
        // Records its argument and what the page held when it was opened, as a browser reads it.
        let opener = try fakeOpener(setup, script: "printf '%s' \"$1\" > '\(opened).argument'\n/bin/cat \"${1#file://}\" > '\(opened).page'")
        let output = try setup.harness.cli(["console", "dev"], extra: opener)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "opened the AWS console for dev in your browser\n")
        #expect(!output.stdout.contains(Self.signinToken) && !output.stderr.contains(Self.signinToken))

        let argument = try String(contentsOfFile: opened + ".argument", encoding: .utf8)
        #expect(argument.hasPrefix("file://\(setup.harness.runtimeDirectory)/credd/console-") && argument.hasSuffix(".html"))
        #expect(!argument.contains(Self.signinToken), "a program's arguments are readable by every local user")
        let page = try String(contentsOfFile: opened + ".page", encoding: .utf8)
        #expect(page.contains("url=http://127.0.0.1:\(setup.federation.port)" + Self.expectedURLTail.replacingOccurrences(of: "&", with: "&amp;")))
        let attributes = try FileManager.default.attributesOfItem(atPath: String(argument.dropFirst("file://".count)))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try setup.harness.stop() == 0)
    }

    /// A fake `xdg-open` in a directory of its own, as the only program on the returned PATH.
    func fakeOpener(_ setup: Setup, script: String) throws -> [String: String] {
        let bin = setup.harness.directory.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        _ = try setup.harness.directory.write("bin/xdg-open", "#!/bin/sh\n" + script + "\n", mode: 0o700)
        return setup.environment.merging(["PATH": bin]) { $1 }
    }

    func consolePages(_ setup: Setup) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: setup.harness.runtimeDirectory + "/credd").filter { $0.hasPrefix("console-") }
    }

    @Test func aFailingOrMissingOpenerLeavesNoPageAndSaysOnceWhatToDo() throws {
        let setup = try start()
        let failing = try setup.harness.cli(["console", "dev"], extra: try fakeOpener(setup, script: "exit 3"))
        #expect(failing.status == 1)
        #expect(failing.stdout.isEmpty)
        #expect(failing.stderr == "credd: xdg-open failed (exit status 3); use credd console dev --print\n")
        #expect(try consolePages(setup).isEmpty, "the page of a failed open is removed")

        let missing = try setup.harness.cli(["console", "dev"], extra: setup.environment.merging(["PATH": "/nonexistent"]) { $1 })
        #expect(missing.status == 1)
        #expect(missing.stderr == "credd: cannot run xdg-open: No such file or directory (install xdg-utils, or use credd console dev --print)\n")
        #expect(try consolePages(setup).isEmpty)
        #expect(try setup.harness.stop() == 0)
    }

    @Test func pagesWhoseTokenExpiredAreRemovedByTheNextRun() throws {
        let setup = try start()
        let credd = setup.harness.runtimeDirectory + "/credd"
        let stale = credd + "/console-stale.html"
        let recent = credd + "/console-recent.html"
        for page in [stale, recent] {
            #expect(FileManager.default.createFile(atPath: page, contents: Data(), attributes: [.posixPermissions: 0o600]))
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-16 * 60)], ofItemAtPath: stale)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-14 * 60)], ofItemAtPath: recent)
        let output = try setup.harness.cli(["console", "dev"], extra: try fakeOpener(setup, script: "exit 0"))
        #expect(output.status == 0, "\(output.stderr)")
        let pages = try consolePages(setup)
        #expect(!pages.contains("console-stale.html") && pages.contains("console-recent.html") && pages.count == 2, "\(pages)")
        #expect(try setup.harness.stop() == 0)
    }

    @Test func aSessionTokenProfileIsRefusedWithTheRolesChainedFromIt() throws {
        let setup = try start()
        let output = try setup.harness.cli(["console", "mfa", "--print"], extra: setup.environment)
        #expect(output.status == 1)
        #expect(output.stdout.isEmpty)
        #expect(
            output.stderr == "credd: mfa is a GetSessionToken session (no role_arn); the console's federation endpoint signs in"
                + " only role sessions: use a role chained from it: credd console dev\n")
        #expect(try setup.requests().isEmpty, "nothing is sent for a profile that cannot sign in")
        #expect(try setup.harness.stop() == 0)
    }

    @Test func aRefusalIsPrintedOnceWithoutASecret() throws {
        let setup = try start(federationStatus: 400)
        let output = try setup.harness.cli(["console", "dev", "--print"], extra: setup.environment)
        #expect(output.status == 1)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.components(separatedBy: "credd:").count == 2, "one message: \(output.stderr)")
        #expect(
            output.stderr.contains("dev: the sign-in endpoint http://127.0.0.1:\(setup.federation.port)/federation refused the session (HTTP 400)"))
        for secret in setup.harness.secretsInHome()
            + Array(try devSession(setup.harness).filter { $0.key != "AccessKeyId" && $0.key != "Expiration" }.values)
        {
            #expect(!output.stderr.contains(secret))
        }
        #expect(try setup.harness.stop() == 0)
    }

    @Test func anUnknownProfileAndNoDaemonAreOneMessageEach() throws {
        let harness = try CreddHarness(stsEndpoint: nil)
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(DaemonEndToEndTests.config(port: harness.endpointPort))
        let unknown = try harness.cli(["console", "nosuch", "--print"])
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.hasPrefix("credd: no managed profile nosuch in ") && unknown.stderr.filter { $0 == "\n" }.count == 1, "\(unknown.stderr)")
        let noDaemon = try harness.cli(["console", "dev", "--print"])
        #expect(noDaemon.status == 3)
        #expect(noDaemon.stderr.filter { $0 == "\n" }.count == 1, "\(noDaemon.stderr)")
    }
}
