import Foundation

/// A program run on a real pseudo-terminal (its controlling terminal, so `/dev/tty` is the pty),
/// driven by python's pexpect: for what credd asks a person, such as MFA codes.
public struct PtySession: Sendable {
    /// Wait until the output matches `expect` (a Python regular expression), then type `send`
    /// and Enter, if given.
    public struct Step: Sendable, Encodable {
        public let expect: String
        public let send: String?

        public init(expect: String, send: String? = nil) {
            self.expect = expect
            self.send = send
        }
    }

    /// The program's exit status.
    public let status: Int32
    /// Everything the terminal showed, typed text included (the pty echoes it).
    public let transcript: String

    public static let isAvailable: Bool = {
        guard ChildProcess.executable(named: "python3") != nil else { return false }
        return (try? ChildProcess.run(["python3", "-c", "import pexpect"], environment: ProcessInfo.processInfo.environment).status) == 0
    }()

    private static let driver = #"""
        import io, json, sys, pexpect
        argv, steps, timeout = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
        log = io.StringIO()
        child = pexpect.spawn(argv[0], argv[1:], timeout=timeout, encoding="utf-8", codec_errors="replace", dimensions=(24, 200))
        child.logfile_read = log
        failure = None
        waiting_for = "the end of the program"
        try:
            for step in steps:
                waiting_for = step["expect"]
                child.expect(step["expect"])
                if step.get("send") is not None:
                    child.sendline(step["send"])
            waiting_for = "the end of the program"
            child.expect(pexpect.EOF)
        except (pexpect.TIMEOUT, pexpect.EOF) as error:
            failure = "waiting for %r: %s" % (waiting_for, type(error).__name__)
        child.close(force=failure is not None)
        print(json.dumps({"status": child.exitstatus, "transcript": log.getvalue(), "failure": failure}))
        """#

    private struct Result: Decodable {
        let status: Int32?
        let transcript: String
        let failure: String?
    }

    /// Runs `arguments` in `harness`'s environment and plays `steps`, each bounded by `timeout`
    /// seconds; throws, with the transcript, when a step's text never shows or the program does not end.
    public static func run(_ arguments: [String], steps: [Step], harness: CreddHarness, timeout: TimeInterval = 60) throws -> PtySession {
        let encoder = JSONEncoder()
        let argv = String(decoding: try encoder.encode(arguments), as: UTF8.self)
        let script = String(decoding: try encoder.encode(steps), as: UTF8.self)
        let output = try harness.run(["python3", "-c", driver, argv, script, String(timeout)])
        guard output.status == 0, let result = try? JSONDecoder().decode(Result.self, from: Data(output.stdout.utf8)) else {
            throw TestSupportError("the pty driver failed (\(output.status)): \(output.stderr)")
        }
        if let failure = result.failure {
            throw TestSupportError("\(failure); the terminal showed:\n\(result.transcript)\ndaemon log:\n\(harness.daemonLog())")
        }
        guard let status = result.status else { throw TestSupportError("\(arguments[0]) was killed by a signal:\n\(result.transcript)") }
        return PtySession(status: status, transcript: result.transcript)
    }
}
