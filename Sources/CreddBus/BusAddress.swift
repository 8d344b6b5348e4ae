/// Where the buses are, as libsystemd's `sd_bus_open_user`/`sd_bus_open_system` find them, but
/// from an explicit environment so that the daemon and its tests agree on it.
public enum BusAddress {
    /// The session bus: `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus` when that
    /// socket exists; `nil` when there is none (SSH, servers).
    public static func session(environment: [String: String], socketExists: (String) -> Bool) -> String? {
        if let address = environment["DBUS_SESSION_BUS_ADDRESS"], !address.isEmpty { return address }
        guard let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else { return nil }
        let path = runtime + "/bus"
        return socketExists(path) ? "unix:path=\(path)" : nil
    }

    /// The system bus: `DBUS_SYSTEM_BUS_ADDRESS`, else the well-known socket.
    public static func system(environment: [String: String]) -> String {
        if let address = environment["DBUS_SYSTEM_BUS_ADDRESS"], !address.isEmpty { return address }
        return "unix:path=/run/dbus/system_bus_socket"
    }
}
