import CreddPlatform
/// The desktop's Secret Service (`org.freedesktop.secrets`: GNOME Keyring, KDE's ksecretd,
/// KeePassXC) on the session bus, for long-term keys kept out of files. Secrets travel over the
/// session bus in a `plain` session: the bus is the user's own, as the desktop's keyring tools do.
public struct SecretService: Sendable {
    public static let busName = "org.freedesktop.secrets"
    static let servicePath = "/org/freedesktop/secrets"
    static let defaultCollection = "/org/freedesktop/secrets/aliases/default"
    static let serviceInterface = "org.freedesktop.Secret.Service"
    static let promptInterface = "org.freedesktop.Secret.Prompt"

    /// An item found by its attributes: where it is, and whether its collection is unlocked.
    public struct Found: Sendable, Hashable {
        public let unlocked: [String]
        public let locked: [String]
    }

    public let connection: BusConnection

    public init(connection: BusConnection) {
        self.connection = connection
    }

    /// Stores `secret` under `label` and `attributes` in the default collection, replacing an item
    /// with the same attributes; returns the item's object path. Fails with ``BusError/locked(_:)``
    /// when the collection is locked.
    public func store(label: String, attributes: [String: String], secret: [UInt8]) async throws(BusError) -> String {
        let session = try await openSession()
        let reply = try await call(
            Self.defaultCollection, "org.freedesktop.Secret.Collection", "CreateItem",
            [
                .dictionary(
                    valueSignature: "v",
                    [
                        ("org.freedesktop.Secret.Item.Label", .variant(.string(label))),
                        ("org.freedesktop.Secret.Item.Attributes", .variant(Self.stringDictionary(attributes))),
                    ]),
                Self.secretStructure(session: session, secret: secret),
                .bool(true),
            ], about: label)
        guard reply.count == 2, let item = reply[0].stringValue, let prompt = reply[1].stringValue else {
            throw .malformed("CreateItem answered \(reply.map(\.signature))")
        }
        // "/" is no object: no prompt needed. A prompt means the collection is locked.
        guard item != "/", prompt == "/" else { throw .locked(label) }
        return item
    }

    /// The items whose attributes include all of `attributes`.
    public func search(_ attributes: [String: String]) async throws(BusError) -> Found {
        let reply = try await call(Self.servicePath, Self.serviceInterface, "SearchItems", [Self.stringDictionary(attributes)])
        guard reply.count == 2, let unlocked = reply[0].arrayValue, let locked = reply[1].arrayValue else {
            throw .malformed("SearchItems answered \(reply.map(\.signature))")
        }
        return Found(unlocked: unlocked.compactMap(\.stringValue), locked: locked.compactMap(\.stringValue))
    }

    /// The secret of the unlocked item at `item`.
    public func secret(of item: String) async throws(BusError) -> [UInt8] {
        let session = try await openSession()
        let reply = try await call(
            Self.servicePath, Self.serviceInterface, "GetSecrets",
            [
                .array(elementSignature: "o", [.objectPath(item)]), .objectPath(session),
            ])
        for case .dictEntry(let path, .structure(let fields)) in reply.first?.arrayValue ?? [] where path.stringValue == item {
            guard fields.count == 4, let value = fields[2].arrayValue else { break }
            return value.map { if case .byte(let byte) = $0 { byte } else { 0 } }
        }
        throw .locked(item)
    }

    /// The attributes of the item at `item`.
    public func attributes(of item: String) async throws(BusError) -> [String: String] {
        let reply = try await call(
            item, "org.freedesktop.DBus.Properties", "Get",
            [
                .string("org.freedesktop.Secret.Item"), .string("Attributes"),
            ])
        guard case .variant(.array(_, let entries))? = reply.first else { throw .malformed("Attributes answered \(reply.map(\.signature))") }
        var attributes: [String: String] = [:]
        for case .dictEntry(.string(let key), .string(let value)) in entries { attributes[key] = value }
        return attributes
    }

    /// Deletes the item at `item`.
    public func delete(_ item: String) async throws(BusError) {
        let reply = try await call(item, "org.freedesktop.Secret.Item", "Delete", [])
        guard reply.first?.stringValue == "/" else { throw .locked(item) }
    }

    /// Locks the collections or items at `paths` (tests and `needs_unlock` use this).
    public func lock(_ paths: [String]) async throws(BusError) {
        _ = try await call(Self.servicePath, Self.serviceInterface, "Lock", [.array(elementSignature: "o", paths.map { .objectPath($0) })])
    }

    /// What came of an ``unlock(_:timeout:)``.
    public enum UnlockOutcome: Sendable, Hashable {
        /// Unlocked (or it was not locked).
        case unlocked
        /// The user dismissed the desktop's prompt, or no prompt could be shown (no prompter in a
        /// headless session), or nobody answered it in time: everything stays locked.
        case dismissed
    }

    /// Unlocks the collections or items at `paths`. When the service needs the user's password,
    /// it shows the desktop's own prompt (`org.freedesktop.Secret.Prompt`) and this waits for its
    /// `Completed` signal, at most `timeout`, after which the prompt is dismissed.
    public func unlock(_ paths: [String], timeout: Duration) async throws(BusError) -> UnlockOutcome {
        let reply = try await call(Self.servicePath, Self.serviceInterface, "Unlock", [.array(elementSignature: "o", paths.map { .objectPath($0) })])
        guard reply.count == 2, let prompt = reply[1].stringValue else { throw .malformed("Unlock answered \(reply.map(\.signature))") }
        // "/" is no object: nothing needed the user.
        guard prompt != "/" else { return .unlocked }
        // Subscribed before the prompt is shown, so that its answer cannot be missed; on the same
        // connection, which the service ties the prompt to.
        let completions = try await connection.signals(
            sender: Self.busName, path: prompt, interface: Self.promptInterface, member: "Completed"
        ) { signal in signal.arguments.first?.boolValue }
        _ = try await connection.call(
            destination: Self.busName, path: prompt, interface: Self.promptInterface, member: "Prompt", arguments: [.string("")])
        let answer = await withTaskGroup(of: PromptAnswer.self) { group in
            group.addTask {
                for await dismissed in completions { return .completed(dismissed: dismissed) }
                return .connectionClosed
            }
            group.addTask {
                try? await EventLoopClock().sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            return await group.next() ?? .timedOut
        }
        switch answer {
        case .completed(let dismissed):
            return dismissed ? .dismissed : .unlocked
        case .connectionClosed:
            throw .disconnected
        case .timedOut:
            // Withdraws the prompt still on screen.
            _ = try? await connection.call(destination: Self.busName, path: prompt, interface: Self.promptInterface, member: "Dismiss")
            return .dismissed
        }
    }

    private enum PromptAnswer: Sendable {
        case completed(dismissed: Bool)
        case timedOut
        case connectionClosed
    }

    /// A signal each time a collection may have been unlocked, from now on: a collection's
    /// `Locked` property turning false (GNOME Keyring's `PropertiesChanged`), or the service's
    /// `CollectionChanged` (which KeePassXC sends when a database is unlocked, and others on any
    /// change). The stream ends when the connection closes.
    public func unlocks() async throws(BusError) -> AsyncStream<Void> {
        let properties = try await connection.signals(
            sender: Self.busName, path: nil, interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged"
        ) { signal -> Void? in
            guard signal.arguments.count >= 2, signal.arguments[0].stringValue == "org.freedesktop.Secret.Collection" else { return nil }
            for case .dictEntry(.string("Locked"), .variant(.bool(false))) in signal.arguments[1].arrayValue ?? [] { return () }
            return nil
        }
        let changes = try await connection.signals(
            sender: Self.busName, path: Self.servicePath, interface: Self.serviceInterface, member: "CollectionChanged"
        ) { _ in () }
        return AsyncStream { continuation in
            let forwarding = Task {
                await withTaskGroup(of: Void.self) { group in
                    for stream in [properties, changes] {
                        group.addTask {
                            for await _ in stream { continuation.yield() }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }

    private func openSession() async throws(BusError) -> String {
        let reply = try await call(Self.servicePath, Self.serviceInterface, "OpenSession", [.string("plain"), .variant(.string(""))])
        guard reply.count == 2, let session = reply[1].stringValue else { throw .malformed("OpenSession answered \(reply.map(\.signature))") }
        return session
    }

    /// Calls the service; its `IsLocked` error becomes ``BusError/locked(_:)`` naming `about`.
    private func call(
        _ path: String, _ interface: String, _ member: String, _ arguments: [BusValue], about: String? = nil
    ) async throws(BusError) -> [BusValue] {
        do {
            return try await connection.call(destination: Self.busName, path: path, interface: interface, member: member, arguments: arguments)
        } catch .callFailed(name: "org.freedesktop.Secret.Error.IsLocked", _) {
            throw .locked(about ?? path)
        }
    }

    private static func stringDictionary(_ entries: [String: String]) -> BusValue {
        .dictionary(valueSignature: "s", entries.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// The Secret Service's `(oayays)`: session, parameters (none for `plain`), value, content type.
    private static func secretStructure(session: String, secret: [UInt8]) -> BusValue {
        .structure([
            .objectPath(session), .array(elementSignature: "y", []), .array(elementSignature: "y", secret.map { .byte($0) }),
            .string("text/plain; charset=utf8"),
        ])
    }
}
