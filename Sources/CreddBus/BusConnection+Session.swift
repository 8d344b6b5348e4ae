import Glibc

extension BusConnection {
    /// Connects to the session bus that `environment` names (see ``BusAddress/session(environment:socketExists:)``).
    /// Fails with ``BusError/noBus(address:reason:)`` when there is none (SSH, servers).
    public static func openSession(environment: [String: String], threadName: String) async throws(BusError) -> BusConnection {
        guard let address = BusAddress.session(environment: environment, socketExists: { access($0, F_OK) == 0 }) else {
            throw .noBus(address: "the session bus", reason: "DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist")
        }
        return try await open(address: address, threadName: threadName)
    }
}
