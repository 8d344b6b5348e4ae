import CreddBus
import CreddConfig
import CreddCore
import Logging

/// The keyring item of a source profile (`credd keys add`) as rotation's key store: the new key
/// goes into the Secret Service, never to disk. Each call opens its own session-bus connection
/// and closes it: rotations are rare, and the keys are read only when used, never kept.
public struct SecretServiceKeyStore: SourceKeyStore {
    private let profile: String
    private let environment: [String: String]
    private let logger: Logger

    /// `environment` names the session bus (`DBUS_SESSION_BUS_ADDRESS`, `XDG_RUNTIME_DIR`).
    public init(profile: String, environment: [String: String], logger: Logger = Logger(label: "credd.rotation")) {
        self.profile = profile
        self.environment = environment
        self.logger = logger
    }

    public var location: KeyLocation { .keyring(profile: profile) }

    public func sourceKeys() async throws(KeyStoreError) -> AWSCredentials {
        let found = try await withService { [profile] service throws(BusError) in try await service.keys(of: profile) }
        guard let found else { throw .keyring(profile: profile, .noKeys) }
        return AWSCredentials(accessKeyId: found.accessKeyId, secretAccessKey: Secret(String(decoding: found.secretAccessKey, as: UTF8.self)))
    }

    public func replaceSourceKeys(replacing expectedAccessKeyId: String, with newKeys: AWSCredentials) async throws(KeyStoreError) {
        let outcome = try await withService { [profile] service throws(BusError) in
            try await service.replaceKeys(
                of: profile, replacing: expectedAccessKeyId, accessKeyId: newKeys.accessKeyId, secret: Array(newKeys.secretAccessKey.revealed.utf8))
        }
        switch outcome {
        case let .replaced(undeleted):
            if !undeleted.isEmpty {
                logger.warning(
                    "an older keyring item of the profile could not be deleted; the new one is read, and the next rotation or `credd keys add` removes it",
                    metadata: ["credd.profile": "\(profile)", "credd.keyring_items": "\(undeleted.joined(separator: ","))"])
            }
        case .noKeys: throw .keyring(profile: profile, .noKeys)
        case let .holds(accessKeyId): throw .keyring(profile: profile, .keyChanged(holds: accessKeyId, expected: expectedAccessKeyId))
        }
    }

    private func withService<T: Sendable>(_ body: (SecretService) async throws(BusError) -> T) async throws(KeyStoreError) -> T {
        do {
            let connection = try await BusConnection.openSession(environment: environment, threadName: "credd-rotation")
            defer { connection.close() }
            return try await body(SecretService(connection: connection))
        } catch .locked {
            throw .keyring(profile: profile, .locked)
        } catch {
            throw .keyring(profile: profile, .unavailable(error.description))
        }
    }
}
