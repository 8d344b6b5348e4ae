import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import CreddSystemd

#if canImport(Glibc)
    import Glibc
#endif

@Suite("systemd notifications")
struct NotifierTests {
    @Test(arguments: [
        (SystemdNotification.ready, "READY=1"),
        (.status("3 fresh, 1 needs MFA; next refresh 14:05"), "STATUS=3 fresh, 1 needs MFA; next refresh 14:05"),
        (.status("line one\nline two"), "STATUS=line one line two"),
        (.reloading(monotonicMicroseconds: 123_456_789), "RELOADING=1\nMONOTONIC_USEC=123456789"),
        (.stopping, "STOPPING=1"),
        (.watchdog, "WATCHDOG=1"),
    ])
    func datagramText(notification: SystemdNotification, expected: String) {
        #expect(notification.state == expected)
    }

    @Test func notifierIsDisabledWithoutNotifySocket() throws {
        #expect(SystemdNotifiers.make(environment: [:]) is DisabledSystemdNotifier)
        #expect(SystemdNotifiers.make(environment: ["NOTIFY_SOCKET": ""]) is DisabledSystemdNotifier)
        #expect(
            SystemdNotifiers.make(environment: ["NOTIFY_SOCKET": "/run/user/1000/systemd/notify"]) is NotifySocketNotifier
        )
        try DisabledSystemdNotifier().send(.ready)
    }

    /// The notifier reads NOTIFY_SOCKET from the process environment, as sd_notify does, so this runs in a child process
    /// (an exit test) that may set it without touching the test runner's environment.
    @Test func sendsTheExactDatagrams() async {
        await #expect(processExitsWith: .success) {
            try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
                let path = directory.appendingPathComponent("notify").path
                let listener = try boundUnixSocket(path: path, type: Int32(SOCK_DGRAM.rawValue), listening: false)
                defer { close(listener) }
                setenv("NOTIFY_SOCKET", path, 1)
                let notifier = SystemdNotifiers.make(environment: ProcessInfo.processInfo.environment)

                let before = monotonicMicroseconds()
                try notifier.send(.ready)
                try notifier.send(.status("2 fresh; next refresh 14:05"))
                try notifier.send(.reloadingNow())
                try notifier.send(.stopping)
                try notifier.send(.watchdog)
                let after = monotonicMicroseconds()

                let datagrams = queuedDatagrams(on: listener)
                try #require(datagrams.count == 5)
                #expect(datagrams[0] == "READY=1")
                #expect(datagrams[1] == "STATUS=2 fresh; next refresh 14:05")
                #expect(datagrams[3] == "STOPPING=1")
                #expect(datagrams[4] == "WATCHDOG=1")
                let reload = datagrams[2].split(separator: "\n").map(String.init)
                try #require(reload.count == 2)
                #expect(reload[0] == "RELOADING=1")
                let stamp = try #require(reload[1].hasPrefix("MONOTONIC_USEC=") ? UInt64(reload[1].dropFirst(15)) : nil)
                #expect(stamp >= before && stamp <= after)
            }
        }
    }

    @Test func failureNamesTheStateAndErrno() async {
        await #expect(processExitsWith: .success) {
            // A socket path nobody listens on: ENOENT.
            setenv("NOTIFY_SOCKET", "/tmp/credd-systemd-no-such-dir/notify", 1)
            let error = #expect(throws: SystemdError.self) { try NotifySocketNotifier().send(.ready) }
            let message = error.map(String.init(describing:)) ?? ""
            #expect(message.contains("notifying systemd of \"READY=1\" failed"))
            #expect(message.contains("errno \(ENOENT)"))
        }
    }

    @Test func reportsAVanishedNotifySocket() async {
        await #expect(processExitsWith: .success) {
            unsetenv("NOTIFY_SOCKET")
            let error = #expect(throws: SystemdError.self) { try NotifySocketNotifier().send(.stopping) }
            #expect(error.map(String.init(describing:))?.contains("NOTIFY_SOCKET is no longer set") == true)
        }
    }

    /// systemd may name an abstract socket (`@name`); the datagram must reach it.
    @Test func sendsToAnAbstractSocket() async {
        await #expect(processExitsWith: .success) {
            let name = "credd-test-notify-\(getpid())"
            let listener = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(listener >= 0)
            defer { close(listener) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = [0] + Array(name.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count))
                }
            }
            try #require(bound == 0, "bind: errno \(errno)")
            setenv("NOTIFY_SOCKET", "@" + name, 1)
            try NotifySocketNotifier().send(.ready)
            #expect(queuedDatagrams(on: listener) == ["READY=1"])
        }
    }

    /// Addresses sd_notify cannot send to (an empty abstract name, a relative path, a vsock
    /// address a user service never gets, names too long for `sun_path`) fail with a reason.
    @Test func unusableAddressesAreRefusedWithAReason() async {
        await #expect(processExitsWith: .success) {
            for address in [
                "@", "relative/notify", "vsock:2:1234", "/" + String(repeating: "x", count: 108), "@" + String(repeating: "x", count: 108),
            ] {
                setenv("NOTIFY_SOCKET", address, 1)
                let error = #expect(throws: SystemdError.self, "\(address)") { try NotifySocketNotifier().send(.ready) }
                #expect(error.map(String.init(describing:))?.contains("notifying systemd of \"READY=1\" failed") == true, "\(address)")
            }
        }
    }
}

private func monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
}

@Test func notifyFailureCanBeLoggedInsteadOfThrown() {
    let logs = InMemoryLogHandler()
    let notifier = RecordingNotifier(failingWith: SystemdError(.notifyFailed(state: "READY=1", errno: ECONNREFUSED)))
    notifier.send(.ready, loggingFailureTo: Logger(label: "test", factory: { _ in logs }))
    #expect(notifier.sent == [.ready])
    let entry = logs.entries.first
    #expect(entry?.level == .warning)
    #expect(entry?.metadata["credd.event"] == "systemd_notify_failed")
    #expect(entry?.metadata["error"]?.description.contains("errno \(ECONNREFUSED)") == true)
}
