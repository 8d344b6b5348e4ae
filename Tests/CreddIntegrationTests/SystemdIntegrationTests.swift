import CreddTestSupport
import Foundation
import Testing

/// The real binary under systemd's protocols: sd_notify over NOTIFY_SOCKET, and socket
/// activation through `systemd-socket-activate`.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct SystemdIntegrationTests {
    static let config = { (port: Int) in
        """
        [credd]
        listen = 127.0.0.1:\(port)

        [profile mfa]
        source_profile = alice-long-term
        mfa_serial = arn:aws:iam::123456789012:mfa/alice
        mfa_process = printf 123456

        [profile dev]
        source_profile = mfa
        role_arn = arn:aws:iam::123456789012:role/Developer
        """
    }

    static let credentials = """
        [alice-long-term]
        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
        aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYLONGTERMKEY

        """

    @Test func notifiesReadyStatusReloadingAndStopping() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try harness.writeCredentials(Self.credentials)
        try harness.writeConfig(Self.config(harness.endpointPort))
        let notifications = try DatagramListener(path: harness.directory.file("notify.sock"))
        try harness.start(environment: ["NOTIFY_SOCKET": notifications.path])

        let ready = try notifications.waitFor { $0.contains("READY=1") }
        #expect(try harness.cli(["status"]).status == 0, "READY=1 comes after the first refresh pass")
        #expect(ready.count >= 1)
        let status = try notifications.waitFor { $0.hasPrefix("STATUS=") && $0.contains("2 fresh") }
        #expect(status.last?.contains("next refresh") == true)

        harness.signal(SIGHUP)
        _ = try notifications.waitFor { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }
        _ = try notifications.waitFor { $0.contains("READY=1") }
        #expect(harness.daemonIsRunning)

        #expect(try harness.stop() == 0)
        _ = try notifications.waitFor { $0.contains("STOPPING=1") }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate")))
    func adoptsSocketsPassedBySocketActivation() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        try harness.writeCredentials(Self.credentials)
        // The config names another port: the activated socket must win.
        try harness.writeConfig(Self.config(try FreePort.find()))
        try harness.start(launcher: [
            "systemd-socket-activate", "-l", "127.0.0.1:\(harness.endpointPort)", "--fdname=endpoint",
        ])
        try harness.waitUntil { FreePort.isListening(harness.endpointPort) }
        // systemd-socket-activate starts credd on the first connection.
        try harness.waitUntil { (try? harness.cli(["status"]).status) == 0 }
        let env = try harness.cli(["env", "dev"])
        #expect(env.stdout.contains("http://127.0.0.1:\(harness.endpointPort)/v1/credentials/dev"))
        let identity = try harness.run(["bash", "-c", "eval \"$(\(CreddHarness.binary) env dev)\" && aws sts get-caller-identity --output text"])
        #expect(identity.status == 0, "\(identity.stderr)")
        #expect(identity.stdout.contains("assumed-role/Developer"))
        #expect(harness.daemonLog().contains("credd.socket_activated=true"))
        try harness.stop()
    }
}

/// A bound `AF_UNIX` datagram socket standing in for systemd's notification socket.
final class DatagramListener {
    let path: String
    private let fd: Int32
    private var received: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw TestSupportError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Reads datagrams until one satisfies `match` (bounded); returns all read so far that match.
    @discardableResult
    func waitFor(timeout: TimeInterval = 30, _ match: (String) -> Bool) throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                let message = String(decoding: buffer[0..<count], as: UTF8.self)
                received.append(message)
                if match(message) { return received.filter(match) }
            }
        }
        throw TestSupportError("no matching notification within \(timeout) s; got: \(received)")
    }
}
