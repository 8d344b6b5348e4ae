import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddSTS
import Logging

/// Builds the `KeyRotation` that acts for real: IAM and STS over `transport`, and the
/// credentials file through ``CredentialsFileKeyStore``. The one factory behind both
/// `credd rotate` and the daemon's scheduled rotation.
public struct LiveKeyRotator: Sendable {
    private let transport: any STSTransport
    /// Resolved once from the environment; a bad `AWS_ENDPOINT_URL_IAM` fails every rotation.
    private let iamEndpoint: Result<IAMEndpoint, AWSQueryError>
    private let wallClock: any WallClock
    private let logger: Logger
    private let fileWork = SerialBlockingWork()

    public init(transport: any STSTransport, environment: [String: String], wallClock: any WallClock, logger: Logger) {
        self.transport = transport
        self.iamEndpoint = Result { () throws(AWSQueryError) in try IAMEndpoint.resolve(environment: environment) }
        self.wallClock = wallClock
        self.logger = logger
    }

    /// The rotation of the keys in `section` of `credentialsFile`, checked with STS at `stsEndpoint`.
    public func rotation(section: String, credentialsFile: String, stsEndpoint: STSEndpoint) throws(KeyRotationError) -> KeyRotation {
        let endpoint: IAMEndpoint
        switch iamEndpoint {
        case let .success(resolved): endpoint = resolved
        case let .failure(error):
            throw KeyRotationError(
                section: section, file: credentialsFile, stage: .listingKeys, cause: .aws(error), inventory: nil,
                rollbackFailures: [], changedNothing: true)
        }
        return KeyRotation(
            iam: IAMClient(transport: transport, endpoint: endpoint, wallClock: wallClock, logger: logger),
            sts: STSClient(
                transport: transport, endpoint: stsEndpoint.url, signingRegion: stsEndpoint.signingRegion, wallClock: wallClock,
                logger: logger),
            keyStore: CredentialsFileKeyStore(writer: CredentialsFileWriter(path: credentialsFile, clock: wallClock), blockingWork: fileWork),
            wallClock: wallClock,
            logger: logger)
    }
}
