/// The desktop's notification server (`org.freedesktop.Notifications`, the Desktop
/// Notifications Specification) on the session bus.
public struct DesktopNotifications: Sendable {
    public static let busName = "org.freedesktop.Notifications"
    static let path = "/org/freedesktop/Notifications"

    /// A button on a notification: the key ActionInvoked reports, and its label.
    public struct Action: Sendable, Hashable {
        public let key: String
        public let label: String

        public init(key: String, label: String) {
            self.key = key
            self.label = label
        }
    }

    /// A button pressed (or the notification's body clicked, key `default`).
    public struct Invocation: Sendable, Hashable {
        public let id: UInt32
        public let actionKey: String
    }

    public let connection: BusConnection

    public init(connection: BusConnection) {
        self.connection = connection
    }

    /// What the server supports, e.g. `actions`, `body`, `persistence`.
    public func capabilities() async throws(BusError) -> Set<String> {
        let reply = try await call("GetCapabilities", [])
        guard let names = reply.first?.arrayValue else { throw .malformed("GetCapabilities answered \(reply.map(\.signature))") }
        return Set(names.compactMap(\.stringValue))
    }

    /// Shows a notification, or replaces the one with id `replacing` (0: a new one); returns its id.
    /// Critical notifications stay until withdrawn (`urgency` 2), as a code that is needed should.
    public func notify(
        replacing id: UInt32, summary: String, body: String, actions: [Action], critical: Bool
    ) async throws(BusError) -> UInt32 {
        let reply = try await call(
            "Notify",
            [
                .string("credd"), .uint32(id), .string("dialog-password"), .string(summary), .string(body),
                .array(elementSignature: "s", actions.flatMap { [BusValue.string($0.key), .string($0.label)] }),
                .dictionary(valueSignature: "v", [("urgency", .variant(.byte(critical ? 2 : 1))), ("desktop-entry", .variant(.string("credd")))]),
                .int32(critical ? 0 : -1),
            ])
        guard let shown = reply.first?.uint32Value else { throw .malformed("Notify answered \(reply.map(\.signature))") }
        return shown
    }

    /// Withdraws notification `id`.
    public func close(_ id: UInt32) async throws(BusError) {
        _ = try await call("CloseNotification", [.uint32(id)])
    }

    /// The buttons users press, from now on.
    public func invocations() async throws(BusError) -> AsyncStream<Invocation> {
        try await connection.signals(sender: Self.busName, path: Self.path, interface: Self.busName, member: "ActionInvoked") { signal in
            guard signal.arguments.count == 2, let id = signal.arguments[0].uint32Value, let key = signal.arguments[1].stringValue else {
                return nil
            }
            return Invocation(id: id, actionKey: key)
        }
    }

    private func call(_ member: String, _ arguments: [BusValue]) async throws(BusError) -> [BusValue] {
        try await connection.call(destination: Self.busName, path: Self.path, interface: Self.busName, member: member, arguments: arguments)
    }
}
