import CreddTestSupport
import Foundation
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
import Glibc
#endif

@Suite("socket activation")
struct ActivatedSocketsTests {
    @Test func adoptsEndpointAndControlByName() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let controlPath = directory.appendingPathComponent("control.sock").path
            let endpoint = try TCPSocket.bound(listening: true)
            let control = try boundUnixSocket(path: controlPath, type: Int32(SOCK_STREAM.rawValue), listening: true)
            defer {
                close(endpoint)
                close(control)
            }
            let passed = [
                ActivatedSockets.PassedSocket(fileDescriptor: control, name: "control"),
                ActivatedSockets.PassedSocket(fileDescriptor: endpoint, name: "endpoint"),
            ]
            let sockets = try ActivatedSockets.adopt(passed, expectedControlPath: controlPath)
            #expect(sockets == ActivatedSockets(endpoints: [endpoint], control: control))
            #expect(!sockets.isEmpty)
            #expect(try ActivatedSockets.adopt(passed, expectedControlPath: nil) == sockets)
        }
    }

    @Test func nothingPassedMeansTheDaemonBindsItself() throws {
        let sockets = try ActivatedSockets.adopt([], expectedControlPath: nil)
        #expect(sockets.isEmpty)
    }

    /// Each case: what systemd passed, and the words the error must contain.
    enum Misconfiguration: CaseIterable {
        case unknownName, endpointNotListening, endpointIsUnix, controlIsTCP, controlAtOtherPath, duplicateControl
    }

    @Test(arguments: Misconfiguration.allCases)
    func rejectsWrongNamesAndTypes(_ misconfiguration: Misconfiguration) throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let controlPath = directory.appendingPathComponent("control.sock").path
            let listeningTCP = try TCPSocket.bound(listening: true)
            let idleTCP = try TCPSocket.bound(listening: false)
            let control = try boundUnixSocket(path: controlPath, type: Int32(SOCK_STREAM.rawValue), listening: true)
            defer {
                close(listeningTCP)
                close(idleTCP)
                close(control)
            }
            let passed: [(CInt, String)]
            let expectedWords: [String]
            var expectedControlPath: String?
            switch misconfiguration {
            case .unknownName:
                passed = [(listeningTCP, "credd.socket")]
                expectedWords = ["fd \(listeningTCP)", "\"credd.socket\"", "FileDescriptorName=endpoint"]
            case .endpointNotListening:
                passed = [(idleTCP, "endpoint")]
                expectedWords = ["\"endpoint\"", "not a listening TCP socket", "ListenStream="]
            case .endpointIsUnix:
                passed = [(control, "endpoint")]
                expectedWords = ["\"endpoint\"", "not a listening TCP socket"]
            case .controlIsTCP:
                passed = [(listeningTCP, "control")]
                expectedWords = ["\"control\"", "not a listening AF_UNIX stream socket"]
            case .controlAtOtherPath:
                passed = [(control, "control")]
                expectedControlPath = "/run/user/0/credd/control.sock"
                expectedWords = ["not a listening AF_UNIX stream socket at /run/user/0/credd/control.sock"]
            case .duplicateControl:
                passed = [(control, "control"), (control, "control")]
                expectedWords = ["second socket named \"control\""]
            }
            let sockets = passed.map { ActivatedSockets.PassedSocket(fileDescriptor: $0.0, name: $0.1) }
            let error = #expect(throws: SystemdError.self) {
                try ActivatedSockets.adopt(sockets, expectedControlPath: expectedControlPath)
            }
            let message = error.map(String.init(describing:)) ?? ""
            for word in expectedWords {
                #expect(message.contains(word), "\(message)")
            }
        }
    }

    @Test func closedDescriptorReportsErrno() throws {
        let fd = try TCPSocket.bound(listening: true)
        close(fd)
        let error = #expect(throws: SystemdError.self) {
            try ActivatedSockets.adopt([.init(fileDescriptor: fd, name: "endpoint")], expectedControlPath: nil)
        }
        #expect(error.map(String.init(describing:))?.contains("errno \(EBADF)") == true)
    }

    /// The real path through the environment, in a child process that may set LISTEN_* freely. Fds 3 and
    /// 4 are left as they are (there they belong to libdispatch; replacing them crashes it), only
    /// filled with /dev/null when still free, so "sockets" named endpoint and control must fail the
    /// type check on fd 3. Adopting real listening sockets is covered by `adoptsEndpointAndControlByName`.
    @Test func takeReadsSystemdsEnvironment() async {
        await #expect(processExitsWith: .success) {
            let forAnotherProcess = take(count: 2, pid: getppid(), names: "endpoint:control")
            #expect(try forAnotherProcess.sockets.get().isEmpty)

            // Not socket-activated at all.
            let none = try ActivatedSockets.take()
            #expect(none.isEmpty)

            // systemd never passes LISTEN_FDS=0; sd_listen_fds calls it malformed, and so does credd.
            let zero = take(count: 0, pid: getpid(), names: "")
            #expect(throws: SystemdError.self) { try zero.sockets.get() }

            try occupyDescriptorsThreeAndFour()
            let notSockets = take(count: 2, pid: getpid(), names: "endpoint:control")
            #expect(throws: SystemdError.self) { try notSockets.sockets.get() }
            if case .failure(let error) = notSockets.sockets {
                #expect(error.description.contains("\"endpoint\" (fd 3)"), "\(error)")
            }
            // unset_environment = 1: child processes must not think the sockets are theirs.
            #expect(notSockets.variablesLeft.isEmpty)

            let namesMismatch = take(count: 2, pid: getpid(), names: "endpoint")
            if case .failure(let error) = namesMismatch.sockets {
                #expect(error.description.contains("reading the activated sockets failed"), "\(error)")
                #expect(error.description.contains("errno \(EINVAL)"), "\(error)")
            } else {
                Issue.record("a LISTEN_FDNAMES with fewer names than LISTEN_FDS must be an error")
            }
        }
    }

    /// Variables that are not numbers are named as malformed, and still removed.
    @Test func malformedVariablesAreRefused() async {
        await #expect(processExitsWith: .success) {
            for (pid, count) in [("abc", "1"), ("-4", "1"), (String(getpid()), "two"), (String(getpid()), "")] {
                setenv("LISTEN_PID", pid, 1)
                setenv("LISTEN_FDS", count, 1)
                let error = #expect(throws: SystemdError.self) { try ActivatedSockets.take() }
                #expect(error?.description.contains("LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES are malformed") == true)
                #expect(getenv("LISTEN_PID") == nil && getenv("LISTEN_FDS") == nil)
            }
        }
    }
}

/// Opens /dev/null until fds 3 and 4 are open. `open` returns the lowest free fd, so this never
/// replaces a descriptor someone else is using.
private func occupyDescriptorsThreeAndFour() throws {
    var extra: [CInt] = []
    defer { extra.forEach { close($0) } }
    while fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0 {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0, "open /dev/null: errno \(errno)")
        if fd > 4 {
            extra.append(fd)
        }
        try #require(extra.count < 64, "fds 3 and 4 never became free")
    }
}

/// Sets systemd's socket-activation variables and calls `ActivatedSockets.take`. Child processes only.
private func take(
    count: Int,
    pid: pid_t,
    names: String
) -> (sockets: Result<ActivatedSockets, SystemdError>, variablesLeft: [String]) {
    let variables = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
    setenv("LISTEN_FDS", String(count), 1)
    setenv("LISTEN_PID", String(pid), 1)
    setenv("LISTEN_FDNAMES", names, 1)
    defer {
        for variable in variables { unsetenv(variable) }
    }
    let result = Result { () throws(SystemdError) in try ActivatedSockets.take() }
    return (result, variables.filter { getenv($0) != nil })
}
