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
            let sockets = ActivatedSockets.adopt(passed, expectedControlPath: controlPath)
            #expect(sockets == ActivatedSockets(endpoints: [endpoint], control: control))
            #expect(!sockets.isEmpty)
            #expect(ActivatedSockets.adopt(passed, expectedControlPath: nil) == sockets)
        }
    }

    @Test func nothingPassedMeansTheDaemonBindsItself() throws {
        let sockets = ActivatedSockets.adopt([], expectedControlPath: nil)
        #expect(sockets.isEmpty)
        #expect(sockets.problems.isEmpty)
    }

    /// Each case: what systemd passed, and the words the problem must contain. The wrong socket is
    /// left out and named; the daemon runs on with the rest.
    enum Misconfiguration: CaseIterable {
        case unknownName, endpointNeverListened, endpointShutDown, endpointIsUnix, endpointIsDatagram, endpointIsAFile
        case controlIsTCP, controlAtOtherPath, duplicateControl
    }

    @Test(arguments: Misconfiguration.allCases)
    func leavesOutWrongNamesAndTypes(_ misconfiguration: Misconfiguration) throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let controlPath = directory.appendingPathComponent("control.sock").path
            let listeningTCP = try TCPSocket.bound(listening: true)
            let idleTCP = try TCPSocket.bound(listening: false)
            // What an older credd left of systemd's socket when it stopped.
            let shutDownTCP = try TCPSocket.bound(listening: true)
            shutdown(shutDownTCP, CInt(SHUT_RDWR))
            let datagram = try boundUnixSocket(
                path: directory.appendingPathComponent("datagram.sock").path, type: Int32(SOCK_DGRAM.rawValue), listening: false)
            let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
            let control = try boundUnixSocket(path: controlPath, type: Int32(SOCK_STREAM.rawValue), listening: true)
            defer {
                for fd in [listeningTCP, idleTCP, shutDownTCP, datagram, file, control] { close(fd) }
            }
            let passed: [(CInt, String)]
            let expectedWords: [String]
            var expectedControlPath: String?
            switch misconfiguration {
            case .unknownName:
                passed = [(listeningTCP, "credd.socket")]
                expectedWords = ["fd \(listeningTCP)", "\"credd.socket\"", "FileDescriptorName=endpoint"]
            case .endpointNeverListened:
                passed = [(idleTCP, "endpoint")]
                expectedWords = ["\"endpoint\"", "is not listening", "systemctl --user restart credd.socket"]
            case .endpointShutDown:
                passed = [(shutDownTCP, "endpoint")]
                expectedWords = ["\"endpoint\" (fd \(shutDownTCP))", "shutdown(2)", "systemctl --user restart credd.socket"]
            case .endpointIsUnix:
                passed = [(control, "endpoint")]
                expectedWords = ["\"endpoint\"", "is an AF_UNIX socket", "TCP on a loopback address", "ListenStream= in credd.socket"]
            case .endpointIsDatagram:
                passed = [(datagram, "endpoint")]
                expectedWords = ["\"endpoint\"", "not a stream socket", "credd.socket needs ListenStream="]
            case .endpointIsAFile:
                passed = [(file, "endpoint")]
                expectedWords = ["\"endpoint\"", "not a socket at all", "start credd through credd.socket"]
            case .controlIsTCP:
                passed = [(listeningTCP, "control")]
                expectedWords = ["\"control\"", "is a TCP socket", "an AF_UNIX socket", "ListenStream= in credd-control.socket"]
            case .controlAtOtherPath:
                passed = [(control, "control")]
                expectedControlPath = "/run/user/0/credd/control.sock"
                expectedWords = ["bound to \(controlPath)", "looks for it at /run/user/0/credd/control.sock", "XDG_RUNTIME_DIR"]
            case .duplicateControl:
                passed = [(control, "control"), (control, "control")]
                expectedWords = ["second socket named \"control\""]
            }
            let sockets = ActivatedSockets.adopt(
                passed.map { ActivatedSockets.PassedSocket(fileDescriptor: $0.0, name: $0.1) }, expectedControlPath: expectedControlPath)
            try #require(sockets.problems.count == 1, "\(sockets.problems)")
            let message = sockets.problems[0].description
            for word in expectedWords {
                #expect(message.contains(word), "\(message)")
            }
            #expect(!message.contains("fix its ListenStream="), "the old catch-all hint blamed ListenStream= for everything")
            // Only the duplicate leaves a socket to use: the first of the two.
            #expect(sockets.endpoints.isEmpty)
            #expect(sockets.control == (misconfiguration == .duplicateControl ? control : nil))
        }
    }

    /// A wrong socket costs only itself: the right one beside it is still adopted.
    @Test func adoptsTheRightSocketBesideAWrongOne() throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let controlPath = directory.appendingPathComponent("control.sock").path
            let shutDownTCP = try TCPSocket.bound(listening: true)
            shutdown(shutDownTCP, CInt(SHUT_RDWR))
            let control = try boundUnixSocket(path: controlPath, type: Int32(SOCK_STREAM.rawValue), listening: true)
            defer {
                close(shutDownTCP)
                close(control)
            }
            let sockets = ActivatedSockets.adopt(
                [.init(fileDescriptor: shutDownTCP, name: "endpoint"), .init(fileDescriptor: control, name: "control")],
                expectedControlPath: controlPath)
            #expect(sockets.control == control)
            #expect(sockets.endpoints.isEmpty)
            #expect(sockets.problems.map(\.description).joined().contains("is not listening"))
        }
    }

    @Test func closedDescriptorReportsErrno() throws {
        let fd = try TCPSocket.bound(listening: true)
        close(fd)
        let sockets = ActivatedSockets.adopt([.init(fileDescriptor: fd, name: "endpoint")], expectedControlPath: nil)
        #expect(sockets.endpoints.isEmpty)
        #expect(sockets.problems.first?.description.contains("errno \(EBADF)") == true)
    }

    /// The real path through the environment, in a child process that may set LISTEN_* freely. Fds 3 and
    /// 4 are left as they are (there they belong to libdispatch; replacing them crashes it), only
    /// filled with /dev/null when still free, so "sockets" named endpoint and control must fail the
    /// type check on fd 3. Adopting real listening sockets is covered by `adoptsEndpointAndControlByName`.
    @Test func takeReadsSystemdsEnvironment() async {
        await #expect(processExitsWith: .success) {
            let forAnotherProcess = take(count: 2, pid: getppid(), names: "endpoint:control")
            #expect(forAnotherProcess.sockets == ActivatedSockets())

            // Not socket-activated at all.
            let none = ActivatedSockets.take()
            #expect(none == ActivatedSockets())

            // systemd never passes LISTEN_FDS=0; sd_listen_fds calls it malformed, and so does credd.
            let zero = take(count: 0, pid: getpid(), names: "")
            #expect(zero.sockets.isEmpty)
            #expect(zero.sockets.problems.count == 1)

            try occupyDescriptorsThreeAndFour()
            let notSockets = take(count: 2, pid: getpid(), names: "endpoint:control")
            #expect(notSockets.sockets.isEmpty)
            #expect(notSockets.sockets.problems.first?.description.contains("\"endpoint\" (fd 3)") == true, "\(notSockets.sockets.problems)")
            // unset_environment = 1: child processes must not think the sockets are theirs.
            #expect(notSockets.variablesLeft.isEmpty)

            let namesMismatch = take(count: 2, pid: getpid(), names: "endpoint")
            let mismatch = namesMismatch.sockets.problems.map(\.description).joined()
            #expect(mismatch.contains("reading the activated sockets failed"), "\(mismatch)")
            #expect(mismatch.contains("errno \(EINVAL)"), "\(mismatch)")
        }
    }

    /// Variables that are not numbers are named as malformed, and still removed.
    @Test func malformedVariablesAreRefused() async {
        await #expect(processExitsWith: .success) {
            for (pid, count) in [("abc", "1"), ("-4", "1"), (String(getpid()), "two"), (String(getpid()), "")] {
                setenv("LISTEN_PID", pid, 1)
                setenv("LISTEN_FDS", count, 1)
                let sockets = ActivatedSockets.take()
                #expect(sockets.isEmpty)
                #expect(sockets.problems.first?.description.contains("LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES are malformed") == true)
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
) -> (sockets: ActivatedSockets, variablesLeft: [String]) {
    let variables = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
    setenv("LISTEN_FDS", String(count), 1)
    setenv("LISTEN_PID", String(pid), 1)
    setenv("LISTEN_FDNAMES", names, 1)
    defer {
        for variable in variables { unsetenv(variable) }
    }
    let sockets = ActivatedSockets.take()
    return (sockets, variables.filter { getenv($0) != nil })
}
