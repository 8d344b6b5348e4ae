import CreddCore
import CreddPlatform
import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import CreddEndpoint

/// Well-formed fake credentials: the shapes STS returns, values no real account has.
enum FakeCredentials {
    static func make(
        generation: Int = 1,
        expiration: Date
    ) -> AWSCredentials {
        let suffix = String(format: "%04d", generation)
        return AWSCredentials(
            accessKeyId: "ASIAFAKEFAKEFAKE" + suffix,
            secretAccessKey: Secret("fakeSecret/Key+\(suffix)wJalrXUtnFEMIK7MDENGbPxRfiCY"),
            sessionToken: Secret("FwoGZXIvYXdzEFakeSessionToken\(suffix)//////////wEaDKv+fake=="),
            expiration: expiration
        )
    }
}

/// A credential source the test controls; counts lookups.
final class FakeCredentialSource: EndpointCredentialSource {
    private let entries: Mutex<[String: EndpointLookup]>
    private let lookups = Mutex(0)

    init(_ entries: [String: EndpointLookup] = [:]) {
        self.entries = Mutex(entries)
    }

    func set(_ lookup: EndpointLookup, for profile: String) {
        entries.withLock { $0[profile] = lookup }
    }

    func lookup(profile: String) -> EndpointLookup {
        lookups.withLock { $0 += 1 }
        return entries.withLock { $0[profile] } ?? .unknown
    }

    var lookupCount: Int { lookups.withLock { $0 } }
}

/// A socket-owner lookup that answers a fixed uid, for tests of the refusal path without setpriv.
struct FixedSocketOwner: SocketOwnerLookup {
    let uid: UInt32?
    func ownerUID(client: SocketEndpoint, server: SocketEndpoint) throws(EndpointError) -> UInt32? { uid }
}

enum TestEndpoint {
    static let containerToken = Secret("test-container-token-0123456789abcdefghijklmnopq")

    static func configuration(imdsProfile: String? = "dev", limits: EndpointConfiguration.Limits = .init()) -> EndpointConfiguration {
        EndpointConfiguration(host: "127.0.0.1", port: 0, imdsProfile: imdsProfile, containerToken: containerToken, limits: limits)
    }

    /// Runs `body` with an endpoint serving on 127.0.0.1 at a free port, then stops it.
    static func withRunning<T: Sendable>(
        configuration: EndpointConfiguration = configuration(),
        source: any EndpointCredentialSource,
        wallClock: any WallClock = SystemWallClock(),
        logHandler: InMemoryLogHandler = InMemoryLogHandler(),
        socketOwners: any SocketOwnerLookup = KernelSocketOwnerLookup(),
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let endpoint = CredentialEndpoint(
            configuration: configuration, source: source, wallClock: wallClock,
            logger: .recording(into: logHandler, label: "credd.endpoint.test"), socketOwners: socketOwners
        )
        let port = try await endpoint.bind()
        let server = Task { try await endpoint.run() }
        defer { server.cancel() }
        let result = try await body(port)
        server.cancel()
        _ = await server.result
        return result
    }
}

/// An environment for AWS tools that cannot see the real `~/.aws`: HOME and the config files
/// point into a fresh temporary directory.
func isolatedAWSEnvironment(home: URL, _ extra: [String: String]) -> [String: String] {
    let inherited = ProcessInfo.processInfo.environment
    var environment: [String: String] = [
        "PATH": inherited["PATH"] ?? "/usr/bin:/bin",
        "HOME": home.path,
        "AWS_CONFIG_FILE": home.appendingPathComponent("aws-config").path,
        "AWS_SHARED_CREDENTIALS_FILE": home.appendingPathComponent("aws-credentials").path,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_METADATA_SERVICE_TIMEOUT": "5",
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2",
        "NO_PROXY": "*",
        "PYTHONDONTWRITEBYTECODE": "1",
    ]
    if let pyenvRoot = inherited["PYENV_ROOT"] { environment["PYENV_ROOT"] = pyenvRoot }
    environment.merge(extra) { _, new in new }
    return environment
}
