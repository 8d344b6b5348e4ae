import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Testing

@testable import CreddSSO

/// Another local user attacks `credd login` (the real binary) and the token cache, as a real
/// second uid. Run by `scripts/hostile-neighbours` (CREDD_HOSTILE_NEIGHBOURS=1), as root.
@Suite(.serialized, .enabled(if: Neighbour.requested, "run by scripts/hostile-neighbours"))
struct HostileNeighbourLoginTests {
    /// The browser `credd login` starts: while it runs, the neighbour reads the sign-in URL from
    /// this process's arguments and attacks the redirect listener (a 40-connection slowloris,
    /// forged and malformed callbacks, and `error=access_denied` with the real state); then the
    /// browser follows the sign-in as a user would.
    static func browser(neighbourCommand: [String], report: String) -> String {
        let command = String(decoding: (try? JSONEncoder().encode(neighbourCommand)) ?? Data("[]".utf8), as: UTF8.self)
        return """
            import json, os, subprocess, sys, time, urllib.parse, urllib.request
            url = sys.argv[1]
            redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
            port = urllib.parse.urlsplit(redirect).port
            started = time.monotonic()
            attack = subprocess.run(json.loads(\(String(reflecting: command))) + [str(port), "40", "3", "pid:%d" % os.getpid()],
                                    capture_output=True, text=True, timeout=60)
            with open(\(String(reflecting: report)), "w") as out:
                out.write(attack.stdout + attack.stderr)
            print("browser:", urllib.request.urlopen(url, timeout=20).read().decode().strip(), file=sys.stderr)
            print("browser: attacked for %.1f s" % (time.monotonic() - started), file=sys.stderr)
            """
    }

    @Test func anotherUserCannotForgeStallOrFloodTheSignInRedirect() async throws {
        guard let neighbour = try await Neighbour.find() else { return }
        let fake = try await FakeSSO.start()
        let credd = try CreddHarness(stsEndpoint: nil)
        try credd.directory.write("home/.aws/config", SSOFixtures.config)
        try credd.writeConfig("[profile dev-sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n")
        let report = credd.directory.file("attack.json")
        let browser = try credd.directory.write(
            "browser.py", Self.browser(neighbourCommand: neighbour.command([Neighbour.python, "-I", "-c", RedirectAttack.script]), report: report))
        let started = Date()
        let login = try credd.cli(
            ["login", "corp"],
            extra: ["AWS_ENDPOINT_URL_SSO": fake.endpoint, "AWS_ENDPOINT_URL_SSO_OIDC": fake.endpoint, "CREDD_BROWSER": "python3 \(browser)"])
        let seconds = Date().timeIntervalSince(started)
        // Stopped here, not in a deferred task: the rig's lock must not outlive the run in a stray child.
        await fake.stop()
        try #require(FileManager.default.fileExists(atPath: report), "the browser did not run the attack: \(login.stderr)")
        let attack = try RedirectAttack.Report(parsing: try String(contentsOfFile: report, encoding: .utf8))
        // Reset before a byte was read; a client still sending when the reset comes may see its end as a close.
        let resets = attack.replies.values.filter { $0 == "reset" || $0 == "closed" }.count
        print(
            String(
                format: "hostile-neighbours: credd login as uid %u: %d slow connections and %d forged or malformed requests from uid %u "
                    + "(one with the state read from the browser's arguments): %d and %d reset unread, none answered; the sign-in completed in %.1f s",
                getuid(), attack.slow, attack.replies.count, neighbour.uid, attack.slowReset, resets, seconds))
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("browser: Signed in to credd. You can close this tab."), "\(login.stderr)")
        #expect(attack.replies["error-real-state"] == "reset", "the neighbour read the state but was still refused: \(attack.replies)")
        #expect(resets == attack.replies.count, "\(attack.replies.mapValues { $0.prefix(60) })")
        #expect(attack.slowReset == attack.slow)
        #expect(try SSOTokenCache(home: credd.home).load(sessionName: "corp", startURL: corpSession.startURL) != nil)
    }

    /// A cache directory the neighbour can write to (a world-writable `~/.aws/sso`): it makes
    /// `cache` its own and plants a token file, a symlink and a FIFO there. credd trusts none of
    /// it and writes no token into the neighbour's directory.
    @Test func plantsInTheTokenCacheByAnotherUserAreNotTrusted() async throws {
        guard let neighbour = try await Neighbour.find() else { return }
        // A home the neighbour can reach, as a real one usually is (0755).
        let home = try TemporaryDirectory(prefix: "credd-neighbour-home", in: "/tmp")
        #expect(chmod(home.path, 0o755) == 0)
        try FileManager.default.createDirectory(atPath: home.file(".aws/sso"), withIntermediateDirectories: true)
        #expect(chmod(home.file(".aws"), 0o755) == 0 && chmod(home.file(".aws/sso"), 0o777) == 0)
        let cache = SSOTokenCache(home: home.path)
        let token = cache.path(sessionName: "corp", startURL: "")
        let other = cache.path(sessionName: "other", startURL: "")
        let fifo = cache.path(sessionName: "fifo", startURL: "")
        let planted = String(decoding: SSOTokenCoding.encode(makeToken(at: Date(), id: "planted")), as: UTF8.self)
        let script = """
            import os, sys
            os.mkdir(sys.argv[1], 0o755)
            with open(sys.argv[2], "w") as out:
                out.write(sys.argv[5])
            os.chmod(sys.argv[2], 0o600)
            os.symlink(sys.argv[2], sys.argv[3])
            os.mkfifo(sys.argv[4], 0o666)
            """
        let planting = try await neighbour.runPython(script, [cache.directory, token, other, fifo, planted], timeout: 30)
        try #require(planting.status == 0, "\(planting.stderr)")

        var refusals: [String] = []
        for (name, expected) in [("corp", "belongs to uid \(neighbour.uid)"), ("other", "is a symlink"), ("fifo", "is a FIFO")] {
            do {
                _ = try cache.load(sessionName: name, startURL: "")
                Issue.record("the neighbour's \(name) entry was read")
            } catch {
                #expect(error.kind == .cacheUnreadable && String(describing: error).contains(expected), "\(error)")
                #expect(!String(describing: error).contains("access-planted"))
                refusals.append(name)
            }
        }
        #expect {
            try cache.store(makeToken(at: Date()), sessionName: "mine")
        } throws: { error in
            String(describing: error).contains("the directory belongs to uid \(neighbour.uid)")
        }
        #expect(!FileManager.default.fileExists(atPath: cache.path(sessionName: "mine", startURL: "")))
        print(
            "hostile-neighbours: token cache planted by uid \(neighbour.uid) (its directory, a token, a symlink, a FIFO): "
                + "\(refusals.count) of 3 entries refused unread, no token written into its directory")
    }
}
