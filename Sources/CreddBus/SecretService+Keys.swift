/// How credd files long-term AWS keys in the Secret Service: one item per source profile, with
/// attributes `application=credd`, `credd-profile` and `aws_access_key_id`; the item's secret is
/// the secret access key. `credd keys`, `credd keys import` and the daemon all go through here.
extension SecretService {
    /// Every item credd stores carries these attributes.
    public static let creddAttributes = ["application": "credd"]

    /// The attributes that find the keys of `profile`.
    public static func keyAttributes(profile: String) -> [String: String] {
        creddAttributes.merging(["credd-profile": profile]) { $1 }
    }

    /// The access key id and secret access key stored for `profile`, or `nil` when there are none.
    /// Fails with ``BusError/locked(_:)`` when only a locked collection holds them.
    public func keys(of profile: String) async throws(BusError) -> (accessKeyId: String, secretAccessKey: [UInt8])? {
        // A replacement may delete the item found between the search and the read (its
        // attributes are then an unknown object, its secret missing as if locked): search again.
        // A few tries outlast a swap; a keyring really locked is found locked by every search.
        var attempt = 1
        while true {
            do {
                return try await readKeys(of: profile)
            } catch {
                let mayBeSwapped: Bool
                switch error {
                case .callFailed, .locked: mayBeSwapped = true
                case .noBus, .disconnected, .serviceMissing, .malformed: mayBeSwapped = false
                }
                guard mayBeSwapped, attempt < Self.keyReadAttempts else { throw error }
                attempt += 1
            }
        }
    }

    /// Reads of a profile's keys before a failure counts (see ``keys(of:)``).
    static let keyReadAttempts = 3

    private func readKeys(of profile: String) async throws(BusError) -> (accessKeyId: String, secretAccessKey: [UInt8])? {
        guard let item = try await currentKeyItem(of: profile) else { return nil }
        return (item.accessKeyId, try await secret(of: item.path))
    }

    /// What ``replaceKeys(of:replacing:accessKeyId:secret:)`` found.
    public enum KeyReplacement: Sendable, Hashable {
        /// The new item is stored; `undeleted` are earlier items that could not be deleted (they
        /// are older, so not read, and the next replacement deletes them).
        case replaced(undeleted: [String])
        /// The keyring holds no keys of the profile: nothing was stored.
        case noKeys
        /// The item holds another access key id than the expected one: nothing was stored.
        case holds(accessKeyId: String)
    }

    /// Replaces the keys of `profile` with `accessKeyId` and `secret`, only if the keyring still
    /// holds `expectedAccessKeyId` for it (compare-and-swap, as key rotation needs).
    ///
    /// The new item is stored before the old one is deleted: a crash in between leaves two items,
    /// each a key IAM still has (rotation retires the old key only after this), never none.
    /// ``keys(of:)`` then reads the newer one, and the next replacement removes the other. For the
    /// same reason an old item that cannot be deleted does not fail the replacement: the new item
    /// is in force, and undoing it would make the caller retire the key it holds.
    /// Fails with ``BusError/locked(_:)`` when the collection is locked, having changed nothing.
    public func replaceKeys(
        of profile: String, replacing expectedAccessKeyId: String, accessKeyId: String, secret: [UInt8]
    ) async throws(BusError) -> KeyReplacement {
        guard let current = try await currentKeyItem(of: profile) else { return .noKeys }
        guard current.accessKeyId == expectedAccessKeyId else { return .holds(accessKeyId: current.accessKeyId) }
        return .replaced(undeleted: try await storeKeys(of: profile, accessKeyId: accessKeyId, secret: secret))
    }

    /// Stores `accessKeyId` and `secret` as the keys of `profile`, then deletes the items that held
    /// its keys before. Returns the earlier items that could not be deleted: they are older, so
    /// ``keys(of:)`` does not read them, and the next store deletes them.
    @discardableResult
    public func storeKeys(of profile: String, accessKeyId: String, secret: [UInt8]) async throws(BusError) -> [String] {
        let earlier = try await search(Self.keyAttributes(profile: profile)).unlocked
        let stored = try await store(
            label: Self.keyLabel(profile: profile),
            attributes: Self.keyAttributes(profile: profile).merging(["aws_access_key_id": accessKeyId]) { $1 },
            secret: secret)
        var undeleted: [String] = []
        for item in earlier where item != stored {
            do {
                try await delete(item)
            } catch {
                undeleted.append(item)
            }
        }
        return undeleted
    }

    /// The label of the item holding the keys of `profile`.
    public static func keyLabel(profile: String) -> String {
        "credd: AWS keys of \(profile)"
    }

    /// The profiles whose keys are stored, locked or not (a locked item's attributes are readable).
    public func keyProfiles() async throws(BusError) -> Set<String> {
        let found = try await search(Self.creddAttributes)
        var profiles: Set<String> = []
        for item in found.unlocked + found.locked {
            if let profile = try await attributes(of: item)["credd-profile"] { profiles.insert(profile) }
        }
        return profiles
    }

    /// The item `keys(of:)` reads: the newest unlocked one of `profile` (two exist only after a
    /// replacement was cut short), with its access key id.
    private func currentKeyItem(of profile: String) async throws(BusError) -> (path: String, accessKeyId: String)? {
        let found = try await search(Self.keyAttributes(profile: profile))
        guard !found.unlocked.isEmpty else {
            if found.locked.isEmpty { return nil }
            throw .locked("the keys of \(profile)")
        }
        var newest: (path: String, created: UInt64)?
        for item in found.unlocked {
            let created = found.unlocked.count == 1 ? 0 : try await createdTime(of: item)
            if newest.map({ created >= $0.created }) ?? true { newest = (item, created) }
        }
        guard let path = newest?.path else { return nil }
        guard let accessKeyId = try await attributes(of: path)["aws_access_key_id"], !accessKeyId.isEmpty else {
            throw .malformed("the keyring item of \(profile) has no aws_access_key_id attribute")
        }
        return (path, accessKeyId)
    }

    /// The item's `Created` property, seconds since the epoch.
    private func createdTime(of item: String) async throws(BusError) -> UInt64 {
        let reply = try await connection.call(
            destination: Self.busName, path: item, interface: "org.freedesktop.DBus.Properties", member: "Get",
            arguments: [.string("org.freedesktop.Secret.Item"), .string("Created")])
        guard case .variant(.uint64(let created))? = reply.first else { throw .malformed("Created answered \(reply.map(\.signature))") }
        return created
    }
}
