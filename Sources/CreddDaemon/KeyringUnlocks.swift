import CreddRefresh
import Logging
import ServiceLifecycle

/// Renews the profiles waiting for a locked keyring (`needs_unlock`) as soon as the Secret
/// Service says a collection may have been unlocked, instead of at their next slow retry.
struct KeyringUnlocks: Service {
    let unlocks: AsyncStream<Void>
    let engine: RefreshEngine
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in unlocks {
                let waiting = await engine.keyringUnlocked()
                guard !waiting.isEmpty else { continue }
                logger.info(
                    "keyring: a collection may have been unlocked; renewing \(waiting.joined(separator: ", ")) now",
                    metadata: ["credd.event": "keyring_unlocked"])
            }
        }
        // Returning early would end the whole ServiceGroup.
        try? await gracefulShutdown()
    }
}
