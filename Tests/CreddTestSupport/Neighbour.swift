import Foundation

/// The hostile-neighbours rig's second local user: the throwaway system user
/// `credd-test-neighbour` (created once), as whom `scripts/hostile-neighbours` runs attacks.
public struct Neighbour: Sendable {
    public static let name = "credd-test-neighbour"
    public static let python = "/usr/bin/python3"
    public static let setpriv = "/usr/bin/setpriv"

    /// Whether the rig asked for these tests (`CREDD_HOSTILE_NEIGHBOURS=1`).
    public static var requested: Bool { ProcessInfo.processInfo.environment["CREDD_HOSTILE_NEIGHBOURS"] == "1" }

    public let uid: UInt32
    public let gid: UInt32

    /// The neighbour, creating the user once; `nil` (saying why) when this is not root or
    /// setpriv or python3 is missing.
    public static func find() async throws -> Neighbour? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv), FileManager.default.isExecutableFile(atPath: python) else {
            print("skipped: needs root, \(setpriv) and \(python) to attack as a second uid")
            return nil
        }
        if getpwnam(name) == nil {
            let created = try await ChildProcess.runOnDedicatedThread(
                ["/usr/sbin/useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name], environment: ["PATH": "/usr/sbin:/usr/bin:/bin"])
            guard created.status == 0 else { throw TestSupportError("useradd \(name): \(created.stderr)") }
        }
        guard let entry = getpwnam(name) else { throw TestSupportError("no user \(name) after useradd") }
        return Neighbour(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// `arguments` as a command line that runs them as the neighbour, with no supplementary groups.
    public func command(_ arguments: [String]) -> [String] {
        [Self.setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups"] + arguments
    }

    /// Runs the Python `script` with `arguments` as the neighbour.
    public func runPython(_ script: String, _ arguments: [String], timeout: TimeInterval) async throws -> ChildProcess.Output {
        try await ChildProcess.runOnDedicatedThread(
            command([Self.python, "-I", "-c", script] + arguments), environment: ["PATH": "/usr/bin:/bin"], timeout: timeout)
    }
}

/// Attacks on `credd login`'s loopback redirect listener, as a Python script:
/// `PORT SLOW HOLD [STATE | pid:PID]`: with STATE (or the state in process PID's arguments), first
/// `error=access_denied` with that state, which would end the sign-in if it were answered; then
/// keeps SLOW connections open with half a request each for HOLD seconds, and meanwhile sends one
/// forged or malformed request per connection (a wrong `state`, an `error=` with a wrong state,
/// garbage, a 64 KiB header, a 1 MiB body, another path).
/// Prints one JSON object: each probe's reply (its status line and body, `reset` or `closed`),
/// and how many slow connections the listener had reset or closed, and after how long.
public enum RedirectAttack {
    public static let script = #"""
        import json, socket, sys, time, urllib.parse
        port, slow, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
        state = sys.argv[4] if len(sys.argv) > 4 else None
        if state and state.startswith("pid:"):
            # What every local user can do: read the browser's arguments, which hold the sign-in URL.
            with open("/proc/%s/cmdline" % state[4:], "rb") as cmdline:
                arguments = cmdline.read().decode().split("\0")
            url = next(a for a in arguments if "state=" in a)
            state = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["state"][0]

        def reply_of(s):
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, BrokenPipeError):
                return "reset" if not data else data.decode("latin-1")
            except socket.timeout:
                return "timeout" if not data else data.decode("latin-1")
            return "closed" if not data else data.decode("latin-1")

        def probe(payload):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
            except ConnectionResetError:
                return "reset"
            try:
                s.sendall(payload)
            except (ConnectionResetError, BrokenPipeError):
                pass
            answer = reply_of(s)
            s.close()
            return answer

        replies = {}
        if state:
            # First, while every place is free: the one forgery that would end the sign-in if answered.
            replies["error-real-state"] = probe(
                ("GET /oauth/callback?error=access_denied&state=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % state).encode())

        started = time.monotonic()
        held = []
        reset_at_once = 0
        for _ in range(slow):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
            except ConnectionResetError:
                reset_at_once += 1
                continue
            try:
                s.sendall(b"GET /oauth/callback?state=")
            except (ConnectionResetError, BrokenPipeError):
                pass
            s.setblocking(False)
            held.append(s)

        probes = {
            "wrong-state": b"GET /oauth/callback?code=forged-code&state=forged HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "error-wrong-state": b"GET /oauth/callback?error=access_denied&state=forged HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "garbage": b"\x00\xff\xfe garbage \x01\r\n\r\n",
            "huge-header": b"GET /oauth/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n",
            "huge-body": b"POST /oauth/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n" + b"b" * 1048576,
            "other-path": b"GET /oauth/callback/../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        }
        replies.update({name: probe(payload) for name, payload in probes.items()})

        ended = {}
        while time.monotonic() - started < hold and len(ended) < len(held):
            for index, s in enumerate(held):
                if index in ended:
                    continue
                try:
                    if s.recv(65536) == b"":
                        ended[index] = ("closed", time.monotonic() - started)
                except BlockingIOError:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    ended[index] = ("reset", time.monotonic() - started)
            time.sleep(0.02)
        for s in held:
            s.close()
        print(json.dumps({
            "replies": replies,
            "slow": slow,
            "slowReset": reset_at_once + sum(1 for kind, _ in ended.values() if kind == "reset"),
            "slowClosed": sum(1 for kind, _ in ended.values() if kind == "closed"),
            "slowEndedAfter": max((after for _, after in ended.values()), default=None),
        }))
        """#

    /// What the script printed.
    public struct Report: Decodable, Sendable {
        public let replies: [String: String]
        public let slow: Int
        public let slowReset: Int
        public let slowClosed: Int
        public let slowEndedAfter: Double?

        /// The HTTP status of a probe's reply, or `nil` when it was reset, closed or timed out.
        public func status(_ probe: String) -> Int? {
            guard let reply = replies[probe], reply.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(reply.dropFirst(9).prefix(3))
        }

        public init(parsing output: String) throws {
            guard let line = output.split(separator: "\n").last else { throw TestSupportError("the attack printed nothing") }
            self = try JSONDecoder().decode(Report.self, from: Data(line.utf8))
        }
    }
}
