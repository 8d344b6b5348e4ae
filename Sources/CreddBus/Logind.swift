/// systemd-logind (`org.freedesktop.login1`) on the system bus: what credd hears of suspend.
public enum Logind {
    /// `PrepareForSleep`'s argument, from now on: `true` before the machine sleeps, `false`
    /// once it has woken.
    public static func sleepTransitions(on connection: BusConnection) async throws(BusError) -> AsyncStream<Bool> {
        try await connection.signals(
            sender: "org.freedesktop.login1", path: "/org/freedesktop/login1", interface: "org.freedesktop.login1.Manager",
            member: "PrepareForSleep"
        ) { $0.arguments.first?.boolValue }
    }
}
