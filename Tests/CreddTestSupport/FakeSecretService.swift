import Foundation

/// A Secret Service with one locked collection whose unlock goes through a prompt, on a private
/// bus: the path gnome-keyring takes on a desktop, where its prompter (which needs a display)
/// asks for the password. python3-dbus; every call it gets is a line in ``calls()``.
public final class FakeSecretService: Sendable {
    /// What the user does with the prompt.
    public enum User: String, Sendable {
        /// Types the password: `Completed(false, …)`, the collection unlocks and says so.
        case unlocks
        /// Presses Cancel: `Completed(true, …)`.
        case dismisses
        /// Never answers; only `Dismiss` ends the prompt.
        case ignores
    }

    private let process: SpawnedProcess
    private let log: String
    private let directory: TemporaryDirectory

    public init(on bus: PrivateBus, user: User) throws {
        directory = try TemporaryDirectory(prefix: "credd-fake-secrets")
        log = directory.file("calls.log")
        let script = try directory.write("fake_secret_service.py", Self.script)
        process = try SpawnedProcess(["/usr/bin/python3", script, bus.address, user.rawValue, log], environment: bus.environment)
        let deadline = Date().addingTimeInterval(20)
        while try !bus.hasOwner("org.freedesktop.secrets") {
            guard Date() < deadline, process.isRunning else { throw TestSupportError("the fake Secret Service did not start") }
            usleep(50_000)
        }
    }

    deinit {
        process.signal(SIGTERM)
        _ = try? process.wait(timeout: 5)
        directory.remove()
    }

    /// The calls so far, one per line: `Unlock /path`, `Prompt`, `Dismiss`, `SearchItems`.
    public func calls() -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private static let script = #"""
        import sys, dbus, dbus.service
        from dbus.mainloop.glib import DBusGMainLoop
        from gi.repository import GLib

        DBusGMainLoop(set_as_default=True)
        address, user, log = sys.argv[1], sys.argv[2], sys.argv[3]
        bus = dbus.bus.BusConnection(address)
        name = dbus.service.BusName('org.freedesktop.secrets', bus)
        COLLECTION = '/org/freedesktop/secrets/collection/login'
        ITEM = COLLECTION + '/1'
        state = {'locked': True}

        def record(line):
            with open(log, 'a') as f:
                f.write(line + '\n')

        class Collection(dbus.service.Object):
            @dbus.service.signal('org.freedesktop.DBus.Properties', signature='sa{sv}as')
            def PropertiesChanged(self, interface, changed, invalidated):
                pass

        class Prompt(dbus.service.Object):
            @dbus.service.method('org.freedesktop.Secret.Prompt', in_signature='s')
            def Prompt(self, window):
                record('Prompt')
                if user == 'unlocks':
                    state['locked'] = False
                    collection.PropertiesChanged('org.freedesktop.Secret.Collection', {'Locked': False}, [])
                    GLib.idle_add(lambda: self.Completed(False, dbus.Array([dbus.ObjectPath(COLLECTION)], signature='o', variant_level=1)))
                elif user == 'dismisses':
                    GLib.idle_add(lambda: self.Completed(True, dbus.Array([], signature='o', variant_level=1)))

            @dbus.service.method('org.freedesktop.Secret.Prompt')
            def Dismiss(self):
                record('Dismiss')
                self.Completed(True, dbus.Array([], signature='o', variant_level=1))

            @dbus.service.signal('org.freedesktop.Secret.Prompt', signature='bv')
            def Completed(self, dismissed, result):
                pass

        class Service(dbus.service.Object):
            @dbus.service.method('org.freedesktop.Secret.Service', in_signature='a{ss}', out_signature='aoao')
            def SearchItems(self, attributes):
                record('SearchItems')
                return ([], [ITEM]) if state['locked'] else ([ITEM], [])

            @dbus.service.method('org.freedesktop.Secret.Service', in_signature='ao', out_signature='aoo')
            def Unlock(self, objects):
                record('Unlock ' + ' '.join(objects))
                if not state['locked']:
                    return (objects, '/')
                return ([], '/org/freedesktop/secrets/prompt/p1')

        collection = Collection(bus, COLLECTION)
        Prompt(bus, '/org/freedesktop/secrets/prompt/p1')
        Service(bus, '/org/freedesktop/secrets')
        GLib.MainLoop().run()
        """#
}
