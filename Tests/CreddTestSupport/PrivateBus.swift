import Foundation

/// A private `dbus-daemon` listening in a temporary directory, for the life of a test: it stands
/// in for the session bus, or (with a mock logind on it) for the system bus.
public final class PrivateBus: Sendable {
    /// The bus's D-Bus address, for `DBUS_SESSION_BUS_ADDRESS` or `DBUS_SYSTEM_BUS_ADDRESS`.
    public let address: String
    private let directory: TemporaryDirectory
    private let daemon: SpawnedProcess

    /// Whether `gnome-keyring-daemon` is installed (scripts/install-deps).
    public static var hasKeyring: Bool { ChildProcess.executable(named: "gnome-keyring-daemon") != nil }

    /// Whether `dbus-daemon` and python3-dbusmock are installed (scripts/install-deps).
    public static var isAvailable: Bool {
        ChildProcess.executable(named: "dbus-daemon") != nil && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/dbusmock")
    }

    /// Starts the bus, on `socket` when given, and waits (bounded) until its socket exists.
    public init(socket given: String? = nil) throws {
        directory = try TemporaryDirectory(prefix: "credd-bus")
        let socket = given ?? directory.file("bus")
        address = "unix:path=\(socket)"
        // A session bus where any connection of this user may own any name, and which starts no
        // service on demand: a test decides which services exist.
        let config = try directory.write(
            "bus.conf",
            """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>session</type>
              <listen>\(address)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow send_destination="*" eavesdrop="true"/>
                <allow eavesdrop="true"/>
                <allow own="*"/>
              </policy>
            </busconfig>
            """)
        daemon = try SpawnedProcess(["dbus-daemon", "--config-file=\(config)", "--nofork", "--nopidfile"], environment: [:])
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, daemon.isRunning else { throw TestSupportError("dbus-daemon did not listen on \(socket)") }
            usleep(20_000)
        }
    }

    /// Stops the bus: every connection to it is cut.
    public func stop() {
        daemon.signal(SIGTERM)
        _ = try? daemon.wait(timeout: 5)
    }

    deinit {
        stop()
        directory.remove()
    }

    /// Starts python3-dbusmock's `template` on this bus (as the system bus when `system`) and
    /// waits until it owns `name`. Its method calls are written to `log`, one line each.
    public func startMock(template: String, owning name: String, system: Bool = false, parameters: String = "{}", log: String) throws
        -> SpawnedProcess
    {
        // Debian's python3-dbusmock lives beside Debian's python3, which may not be the first on PATH.
        var arguments = ["/usr/bin/python3", "-m", "dbusmock", "--template", template, "--parameters", parameters, "-l", log]
        if system { arguments.insert("--system", at: 3) }
        let mock = try SpawnedProcess(arguments, environment: environment)
        let deadline = Date().addingTimeInterval(20)
        while try !hasOwner(name) {
            guard Date() < deadline, mock.isRunning else { throw TestSupportError("dbusmock \(template) did not take \(name)") }
            usleep(50_000)
        }
        return mock
    }

    /// Starts a real Secret Service on this bus: `gnome-keyring-daemon` with a `login` keyring in
    /// `home`, unlocked with a test password; waits until it owns `org.freedesktop.secrets`.
    public func startKeyring(home: TemporaryDirectory) throws -> SpawnedProcess {
        let password = try home.write("keyring-password", "credd-test-password")
        let runtime = home.file("keyring-run")
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let input = open(password, O_RDONLY)
        defer { close(input) }
        var keyringEnvironment = environment
        keyringEnvironment["HOME"] = home.path
        keyringEnvironment["XDG_RUNTIME_DIR"] = runtime
        let keyring = try SpawnedProcess(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"], environment: keyringEnvironment, stdin: input)
        let deadline = Date().addingTimeInterval(20)
        while try !hasOwner("org.freedesktop.secrets") {
            guard Date() < deadline, keyring.isRunning else { throw TestSupportError("gnome-keyring-daemon did not take org.freedesktop.secrets") }
            usleep(50_000)
        }
        return keyring
    }

    /// Locks gnome-keyring's `login` collection, as the desktop's "Lock" does.
    public func lockKeyring() throws {
        let result = try ChildProcess.run(
            [
                "gdbus", "call", "--address", address, "--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                "--method", "org.freedesktop.Secret.Service.Lock", "['/org/freedesktop/secrets/collection/login']",
            ], environment: environment, timeout: 10)
        guard result.status == 0 else { throw TestSupportError("Lock: \(result.stderr)") }
    }

    /// Unlocks gnome-keyring's `login` collection with the test password, through gnome-keyring's
    /// own interface for it: what its prompt does once the user typed the password (the prompter
    /// needs a display, which tests have not).
    public func unlockKeyring() throws {
        let unlock = """
            import dbus, sys
            bus = dbus.bus.BusConnection(sys.argv[1])
            service = bus.get_object('org.freedesktop.secrets', '/org/freedesktop/secrets')
            _, session = service.OpenSession('plain', dbus.String('', variant_level=1), dbus_interface='org.freedesktop.Secret.Service')
            dbus.Interface(service, 'org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface').UnlockWithMasterPassword(
                dbus.ObjectPath('/org/freedesktop/secrets/collection/login'),
                (session, dbus.ByteArray(b''), dbus.ByteArray(b'credd-test-password'), 'text/plain'))
            """
        let result = try ChildProcess.run(["/usr/bin/python3", "-c", unlock, address], environment: environment, timeout: 10)
        guard result.status == 0 else { throw TestSupportError("UnlockWithMasterPassword: \(result.stderr)") }
    }

    /// Whether a connection owns `name` on this bus.
    public func hasOwner(_ name: String) throws -> Bool {
        let reply = try ChildProcess.run(
            [
                "dbus-send", "--bus=\(address)", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner", "string:\(name)",
            ], environment: environment, timeout: 10)
        return reply.stdout.contains("boolean true")
    }

    /// Emits `member` of `interface` from the dbusmock object at `path` that owns `name`,
    /// through dbusmock's `EmitSignal`; `arguments` is a GVariant text such as `[<false>]`.
    public func emitFromMock(name: String, path: String, interface: String, member: String, signature: String, arguments: String) throws {
        let result = try ChildProcess.run(
            [
                "gdbus", "call", "--address", address, "--dest", name, "--object-path", path,
                "--method", "org.freedesktop.DBus.Mock.EmitSignal", interface, member, signature, arguments,
            ],
            environment: environment, timeout: 10)
        guard result.status == 0 else { throw TestSupportError("EmitSignal \(member): \(result.stderr)") }
    }

    /// The unique names of the connections process `pid` has on this bus.
    public func uniqueNames(of pid: Int32) throws -> [String] {
        let listed = try ChildProcess.run(
            ["busctl", "--address=\(address)", "list", "--unique", "--no-legend", "--no-pager"], environment: environment, timeout: 10)
        guard listed.status == 0 else { throw TestSupportError("busctl list: \(listed.stderr)") }
        return listed.stdout.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            return columns.count > 1 && columns[1] == "\(pid)" ? String(columns[0]) : nil
        }
    }

    /// Sends signal `member` straight to the connection `destination`, from a connection of its
    /// own (not the owner of any name): what any peer on the bus can do. `arguments` are
    /// dbus-send's (`boolean:false`).
    public func sendSignal(to destination: String, path: String, interface: String, member: String, arguments: [String]) throws {
        let sent = try ChildProcess.run(
            ["dbus-send", "--bus=\(address)", "--type=signal", "--dest=\(destination)", path, "\(interface).\(member)"] + arguments,
            environment: environment, timeout: 10)
        guard sent.status == 0 else { throw TestSupportError("dbus-send \(member): \(sent.stderr)") }
    }

    /// An environment whose session and system buses are both this one.
    public var environment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS": address,
            "DBUS_SYSTEM_BUS_ADDRESS": address,
        ]
    }
}

/// Runs `body`, failing with a message naming `what` if it has not finished within `seconds`.
public func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestSupportError("\(what): not within \(seconds) s") }
        return value
    }
}
