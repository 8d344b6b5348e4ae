import CreddPlatform
import CreddSTS
import CreddTestSupport
import Foundation
import Testing

/// `ProcessRunner`'s own spawning (posix_spawn, not Foundation's `Process`).
@Suite struct ProcessRunnerTests {
    let configuration = ProcessRunner.Configuration(timeout: .seconds(10))

    @Test func childStartsWithNoSignalBlockedOrIgnored() async throws {
        // The test runner's threads block signals and NIO ignores SIGPIPE; a child inherits neither.
        let output = try await ProcessRunner.run(
            ["/bin/sh", "-c", "grep -E '^Sig(Blk|Ign):' /proc/self/status"], configuration: configuration)
        let masks = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").map {
            UInt64($0.split(separator: "\t").last ?? "", radix: 16)
        }
        #expect(masks.first == 0)
        // Signals 1-31 only: glibc keeps its internal real-time signals (32, 33) to itself.
        #expect(masks.last.flatMap { $0.map { $0 & 0x7fff_ffff } } == 0)
        #expect(output.exitStatus == 0)
    }

    @Test func childLeadsItsOwnProcessGroupWithStdinFromDevNull() async throws {
        let output = try await ProcessRunner.run(
            ["/bin/sh", "-c", "ps -o pgid= -p $$; echo $$; readlink /proc/self/fd/0"], configuration: configuration)
        let lines = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").map { $0.trimmingWhitespace() }
        #expect(lines.count == 3)
        #expect(lines.first == lines.dropFirst().first)
        #expect(lines.last == "/dev/null")
    }

    @Test func childInheritsNoDescriptorBeyondStdinStdoutAndStderr() async throws {
        // As NIO leaves an accepted connection: open without close-on-exec.
        let inheritable = open("/dev/null", O_RDONLY)
        try #require(inheritable > 2)
        defer { close(inheritable) }
        // `[` is the shell's builtin, so /proc/self is the shell that posix_spawn started.
        let output = try await ProcessRunner.run(
            ["/bin/sh", "-c", "[ -e /proc/self/fd/\(inheritable) ] && echo inherited || echo closed; [ -e /proc/self/fd/2 ] && echo stderr"],
            configuration: configuration)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "closed\nstderr\n")
    }

    @Test func exitStatusAndSignalAreReported() async throws {
        let exited = try await ProcessRunner.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], configuration: configuration)
        #expect(exited.exitStatus == 3)
        #expect(exited.stdout == Array("out\n".utf8))
        #expect(exited.stderr == Array("err\n".utf8))
        let killed = try await ProcessRunner.run(["/bin/sh", "-c", "kill -TERM $$"], configuration: configuration)
        #expect(killed.exitStatus == 128 + SIGTERM)
    }

    @Test func environmentIsExactlyTheOneGiven() async throws {
        let output = try await ProcessRunner.run(
            ["/usr/bin/env"],
            configuration: .init(timeout: .seconds(10), environment: ["CREDD_TEST": "a b=c"]))
        #expect(String(decoding: output.stdout, as: UTF8.self) == "CREDD_TEST=a b=c\n")
    }

    /// credd sets LIBDISPATCH_LOG=NO for itself; `mfa_process` and `credential_process` get the
    /// user's environment. In a child process, which may change its environment.
    @Test func defaultEnvironmentLeavesOutWhatCreddSetForItself() async {
        await #expect(processExitsWith: .success) {
            unsetenv("LIBDISPATCH_LOG")
            setenv("CREDD_TEST_INHERITED", "yes", 1)
            InheritedEnvironment.silenceLibdispatch()
            #expect(ProcessInfo.processInfo.environment["LIBDISPATCH_LOG"] == "NO")
            let output = try await ProcessRunner.run(["/usr/bin/env"], configuration: .init(timeout: .seconds(10)))
            let lines = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n")
            #expect(lines.contains("CREDD_TEST_INHERITED=yes"))
            #expect(!lines.contains { $0.hasPrefix("LIBDISPATCH_LOG=") })
        }
    }

    @Test func fileThatIsNotExecutableIsALaunchFailure() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        let path = try dir.write("not-executable", "#!/bin/sh\necho hi\n", mode: 0o600)
        await #expect(throws: ProcessRunner.Failure.launchFailed(program: path, reason: String(cString: strerror(EACCES)))) {
            try await ProcessRunner.run([path], configuration: configuration)
        }
    }

    @Test func pathLookupSkipsDirectoriesAndFilesThatAreNotExecutable() async throws {
        let dir = try TemporaryDirectory(prefix: "credd-sts-tests")
        _ = try dir.write("first/credd-helper", "echo no\n", mode: 0o600)
        try FileManager.default.createDirectory(atPath: dir.file("second/credd-helper"), withIntermediateDirectories: true)
        _ = try dir.write("third/credd-helper", "#!/bin/sh\necho yes\n", mode: 0o700)
        let path = ["first", "second", "third"].map { dir.file($0) }.joined(separator: ":")
        let output = try await ProcessRunner.run(
            ["credd-helper"], configuration: .init(timeout: .seconds(10), environment: ["PATH": path]))
        #expect(output.stdout == Array("yes\n".utf8))
        await #expect(throws: ProcessRunner.Failure.launchFailed(program: "credd-helper", reason: "no executable of that name in PATH")) {
            try await ProcessRunner.run(["credd-helper"], configuration: .init(timeout: .seconds(10), environment: ["PATH": dir.file("first")]))
        }
    }
}
