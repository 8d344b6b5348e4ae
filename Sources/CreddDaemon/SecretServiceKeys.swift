import CreddBus
import CreddCore
import CreddRefresh
import FoundationEssentials

/// Long-term keys of `source_profile`s that the Secret Service holds (`credd keys add`).
protocol KeyringKeys: Sendable {
    /// The keys of `profile`, read now.
    func keys(of profile: String) async throws(RefreshFailure) -> AWSCredentials
    /// The profiles whose keys the keyring holds, for the config loader; empty without a keyring.
    func profileNames() async -> Set<String>
}

/// The session bus's Secret Service through one connection, opened on first use and again after
/// it closes. Keys are read at each renewal and never kept: not in memory, not on disk.
actor SecretServiceKeys: KeyringKeys {
    private let environment: [String: String]
    private var connection: BusConnection?
    /// The names the keyring last listed: a reload while it cannot answer (locked items whose
    /// attributes it hides, a keyring restarting) keeps them rather than breaking the profiles.
    private var listed: Set<String> = []

    /// A value each time the keyring may have been unlocked (docs/design.md §8, `needs_unlock`),
    /// heard on the connection the keys are read through, from its first use.
    nonisolated let unlocks: AsyncStream<Void>
    private let unlocked: AsyncStream<Void>.Continuation

    init(environment: [String: String]) {
        self.environment = environment
        (unlocks, unlocked) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func keys(of profile: String) async throws(RefreshFailure) -> AWSCredentials {
        let found: (accessKeyId: String, secretAccessKey: [UInt8])?
        do {
            found = try await service().keys(of: profile)
        } catch .locked {
            throw RefreshFailure(
                disposition: .needsUnlock,
                message: "the keyring holding the keys of \(profile) is locked: run `credd keys unlock` (or unlock it on your desktop)")
        } catch .malformed(let what) {
            throw RefreshFailure(disposition: .needsChange, message: "\(what); store the keys again with `credd keys add \(profile)`")
        } catch {
            // No bus or no keyring yet (a daemon started before the desktop session): it may come.
            throw RefreshFailure(disposition: .retryable, message: "cannot read the keys of \(profile) from the keyring: \(error)")
        }
        guard let found else {
            throw RefreshFailure(
                disposition: .needsChange, message: "the keyring holds no keys of \(profile) any more: run `credd keys add \(profile)`")
        }
        return AWSCredentials(accessKeyId: found.accessKeyId, secretAccessKey: Secret(String(decoding: found.secretAccessKey, as: UTF8.self)))
    }

    func profileNames() async -> Set<String> {
        do {
            listed = try await service().keyProfiles()
        } catch .noBus, .serviceMissing {
            listed = []
        } catch {}
        return listed
    }

    private func service() async throws(BusError) -> SecretService {
        if let connection, connection.isOpen { return SecretService(connection: connection) }
        let opened = try await BusConnection.openSession(environment: environment, threadName: "credd-keyring")
        connection = opened
        let service = SecretService(connection: opened)
        // Before the first read: an unlock after a read that found the keyring locked is heard.
        // Without the signals, the slow retry of `needs_unlock` still notices an unlock.
        if let unlocks = try? await service.unlocks() {
            Task { [unlocked] in
                for await _ in unlocks { unlocked.yield() }
            }
        }
        return service
    }
}
