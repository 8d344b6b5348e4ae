extension SecretService {
    /// How long `credd keys unlock` and the notification's "Unlock" wait for the user to answer
    /// the desktop's prompt before withdrawing it.
    public static let unlockPromptTimeout: Duration = .seconds(600)

    /// Unlocks what holds credd's keys: the collections of its locked items or, when the service
    /// lists none at all (KeePassXC hides a locked database's items), the default collection.
    /// The desktop's own prompt asks for the password; see ``unlock(_:timeout:)``.
    public func unlockKeys(timeout: Duration) async throws(BusError) -> UnlockOutcome {
        let found = try await search(Self.creddAttributes)
        if found.locked.isEmpty && !found.unlocked.isEmpty { return .unlocked }
        return try await unlock(found.locked.isEmpty ? [Self.defaultCollection] : found.locked, timeout: timeout)
    }
}
