import CreddTestSupport
import Foundation
import Glibc
import Testing

/// Another local user goes after the files credd keeps for its user: the container token that
/// `credd env` points SDKs at, the runtime directory, and the sign-in page `credd console`
/// hands the browser (and the browser's arguments). The directories above credd's own are
/// opened up (0755) so that only what credd does protects them. Run by
/// `scripts/hostile-neighbours` (CREDD_HOSTILE_NEIGHBOURS=1), as root.
@Suite(
    .serialized, .enabled(if: Neighbour.requested, "run by scripts/hostile-neighbours"),
    .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct HostileNeighbourFilesTests {
    /// The neighbour's attempts, `TOKEN RUNTIME PAGE PID`: each printed as `allowed` or the errno's name.
    static let probe = #"""
        import errno, json, os, sys
        token, runtime, page, pid = sys.argv[1:5]
        results = {}
        def attempt(name, action):
            try:
                action()
                results[name] = "allowed"
            except OSError as error:
                results[name] = errno.errorcode.get(error.errno, str(error.errno))
        attempt("read the token file", lambda: open(token).read())
        attempt("list the runtime directory", lambda: os.listdir(runtime))
        attempt("plant a page in it", lambda: open(runtime + "/console-planted.html", "x"))
        attempt("move the token file", lambda: os.rename(token, token + ".moved"))
        if page:
            attempt("read the console page", lambda: open(page).read())
            attempt("swap the console page", lambda: os.symlink("/etc/hostname", page + ".swap") or os.rename(page + ".swap", page))
        if pid:
            with open("/proc/%s/cmdline" % pid, "rb") as cmdline:
                results["opener arguments"] = cmdline.read().decode().replace("\0", " ").strip()
        print(json.dumps(results))
        """#

    /// The probe in a directory the neighbour can read.
    static func probeFile() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory(prefix: "credd-neighbour-probe", in: "/tmp")
        #expect(chmod(directory.path, 0o755) == 0)
        return (directory, try directory.write("probe.py", probe, mode: 0o644))
    }

    @Test func anotherUserCannotReadTheTokenTheRuntimeDirectoryOrTheConsolePage() async throws {
        guard let neighbour = try await Neighbour.find() else { return }
        let setup = try ConsoleCommandTests().start()
        let harness = setup.harness
        for open in [harness.directory.path, harness.runtimeDirectory] { #expect(chmod(open, 0o755) == 0) }
        let runtime = harness.runtimeDirectory + "/credd"
        let env = try harness.cli(["env", "dev"])
        let tokenLine = try #require(env.stdout.split(separator: "\n").first { $0.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") })
        let token = runtime + "/token"
        #expect(tokenLine.contains(token), "\(tokenLine)")

        let (probeDirectory, probe) = try Self.probeFile()
        _ = probeDirectory
        let seen = harness.directory.file("neighbour-saw.json")
        // The fake xdg-open lets the neighbour try while the page exists, reading the opener's own arguments.
        let opener = try ConsoleCommandTests().fakeOpener(
            setup,
            script:
                "\(neighbour.command([Neighbour.python, "-I", probe]).joined(separator: " ")) '\(token)' '\(runtime)' \"${1#file://}\" $$ > '\(seen)' 2>&1"
        )
        let console = try harness.cli(["console", "dev"], extra: opener)
        #expect(console.status == 0, "\(console.stderr)")
        let results = try JSONDecoder().decode([String: String].self, from: Data(try String(contentsOfFile: seen, encoding: .utf8).utf8))

        var status = stat()
        #expect(lstat(runtime, &status) == 0 && status.st_mode & 0o777 == 0o700 && status.st_uid == getuid())
        #expect(lstat(token, &status) == 0 && status.st_mode & 0o777 == 0o600 && status.st_mode & S_IFMT == S_IFREG)
        for attempt in [
            "read the token file", "list the runtime directory", "plant a page in it", "move the token file", "read the console page",
            "swap the console page",
        ] {
            #expect(results[attempt] == "EACCES", "\(attempt): \(results[attempt] ?? "not tried")")
        }
        let arguments = results["opener arguments"] ?? ""
        #expect(arguments.contains("file://\(runtime)/console-"), "\(arguments)")
        #expect(!arguments.contains(ConsoleCommandTests.signinToken), "the sign-in URL is in the opener's arguments")
        print(
            "hostile-neighbours: credd env and credd console as uid \(getuid()), from uid \(neighbour.uid): "
                + results.filter { $0.key != "opener arguments" }.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                + "; the opener's arguments hold the page's path, not the sign-in URL")
        #expect(try harness.stop() == 0)
    }
}
