import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddSTS
import Logging

/// Builds the `KeyRotation` that acts for real: IAM and STS over `transport`, and the keys where
/// they live: the credentials file through ``CredentialsFileKeyStore``, the keyring through
/// ``SecretServiceKeyStore``. The one factory behind both `credd rotate` and the daemon's
/// scheduled rotation.
public struct LiveKeyRotator: Sendable {
    private let transport: any STSTransport
    /// Resolved once from the environment; a bad `AWS_ENDPOINT_URL_IAM` fails every rotation.
    private let iamEndpoint: Result<IAMEndpoint, AWSQueryError>
    /// Names the session bus, for keys in the keyring.
    private let environment: [String: String]
    private let wallClock: any WallClock
    private let logger: Logger
    private let fileWork = SerialBlockingWork()

    public init(transport: any STSTransport, environment: [String: String], wallClock: any WallClock, logger: Logger) {
        self.transport = transport
        self.iamEndpoint = Result { () throws(AWSQueryError) in try IAMEndpoint.resolve(environment: environment) }
        self.environment = environment
        self.wallClock = wallClock
        self.logger = logger
    }

    /// The rotation of the keys at `location`, checked with STS at `stsEndpoint`.
    public func rotation(of location: KeyLocation, stsEndpoint: STSEndpoint) throws(KeyRotationError) -> KeyRotation {
        let endpoint: IAMEndpoint
        switch iamEndpoint {
        case let .success(resolved): endpoint = resolved
        case let .failure(error):
            throw KeyRotationError(
                location: location, stage: .listingKeys, cause: .aws(error), inventory: nil, rollbackFailures: [], changedNothing: true)
        }
        let keyStore: any SourceKeyStore
        switch location {
        case let .credentialsFile(path, section):
            keyStore = CredentialsFileKeyStore(writer: CredentialsFileWriter(path: path, clock: wallClock), section: section, blockingWork: fileWork)
        case let .keyring(profile):
            keyStore = SecretServiceKeyStore(profile: profile, environment: environment, logger: logger)
        }
        return KeyRotation(
            iam: IAMClient(transport: transport, endpoint: endpoint, wallClock: wallClock, logger: logger),
            sts: STSClient(
                transport: transport, endpoint: stsEndpoint.url, signingRegion: stsEndpoint.signingRegion, wallClock: wallClock,
                logger: logger),
            keyStore: keyStore,
            wallClock: wallClock,
            logger: logger)
    }
}
