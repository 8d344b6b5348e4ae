import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddRotation
import CreddSTS
import CreddTestSupport
import Foundation
import InMemoryLogging
import Logging
import Testing

/// Rotation against moto with signature validation on. The setup (user, policy, keys) runs
/// with auth off; then signature checking is turned on, so every IAM and STS call credd makes
/// is signature-checked and policy-checked, and a deleted key is rejected.
///
/// moto does not accept GetSessionToken credentials for IAM calls, so MFA-session signing is
/// covered by the unit tests only.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is needed: pip install 'moto[server]' boto3"))
struct MotoRotationTests {
    /// botocore reads the rewritten file and calls STS with it.
    static let botoScript = #"""
        import sys, boto3
        print(boto3.Session(profile_name="alice").client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()["Arn"])
        """#

    /// A moto server, a user with keys, a credentials file holding them, and credd's clients.
    final class World {
        let directory: TemporaryDirectory
        let server: MotoServer
        let transport = HTTPClientSTSTransport()
        let keys: AWSCredentials
        let extraKeys: [String]
        let original: HandEditedCredentials
        let iamEndpoint: IAMEndpoint
        let iam: IAMClient
        let sts: STSClient
        let writer: CredentialsFileWriter
        let logs: InMemoryLogHandler
        let logger: Logger

        init(extraKeys count: Int = 0) async throws {
            directory = try TemporaryDirectory(prefix: "credd-rotation")
            server = try await MotoServer.start()
            let alice = try await server.createUser(
                "alice",
                allowing: ["sts:GetCallerIdentity", "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey"],
                extraKeys: count)
            try await server.enableSignatureValidation()
            keys = alice.credentials
            extraKeys = alice.extraAccessKeyIds
            original = HandEditedCredentials(keys: keys)
            try directory.write("credentials", original.text, mode: nil)
            // Every component logs here, at every level, so tests can search it for secrets.
            logs = InMemoryLogHandler()
            let logger = Logger.recording(into: logs, label: "moto-test")
            self.logger = logger
            let noRetries = RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)
            iamEndpoint = try IAMEndpoint.resolve(environment: ["AWS_ENDPOINT_URL_IAM": server.endpoint])
            iam = IAMClient(transport: transport, endpoint: iamEndpoint, wallClock: SystemWallClock(), retryPolicy: noRetries, logger: logger)
            sts = STSClient(
                transport: transport, endpoint: server.endpointURL, signingRegion: "us-east-1", wallClock: SystemWallClock(), retryPolicy: noRetries,
                logger: logger)
            writer = CredentialsFileWriter(path: directory.file("credentials"), clock: SystemWallClock())
        }

        func rotation(iam override: (any AccessKeyManaging)? = nil) -> KeyRotation {
            KeyRotation(
                iam: override ?? iam, sts: sts,
                keyStore: CredentialsFileKeyStore(writer: writer, section: "alice", blockingWork: SerialBlockingWork()),
                wallClock: SystemWallClock(),
                sleep: { _ in Issue.record("moto accepts new keys at once; no wait expected") },
                configuration: .init(acceptanceAttempts: 3), logger: logger)
        }

        /// Neither the old nor the new secret in any log line or message.
        func expectNoSecrets(_ text: String, newKeys: AWSCredentials? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            let logText = logs.renderedText
            #expect(!logs.entries.isEmpty, sourceLocation: sourceLocation)
            for secret in [keys.secretAccessKey.revealed, newKeys?.secretAccessKey.revealed].compactMap({ $0 }) {
                #expect(!logText.contains(secret) && !text.contains(secret), "a secret leaked", sourceLocation: sourceLocation)
            }
        }

        func close() async throws {
            try await transport.shutdown()
            server.stop()
        }
    }

    @Test func rotatesTheKeyInPlace() async throws {
        let world = try await World()
        do {
            let report = try await world.rotation().rotate()
            let newKeys = try world.writer.sourceKeys(inSection: "alice")

            #expect(newKeys.accessKeyId == report.newAccessKeyId)
            #expect(newKeys.accessKeyId != world.keys.accessKeyId)
            #expect(try world.directory.read("credentials") == world.original.replacingKeys(with: newKeys))
            #expect(fileMode(world.directory.file("credentials")) == 0o600)
            #expect(report.oldAccessKeyId == world.keys.accessKeyId)
            #expect(report.userName == "alice")
            world.expectNoSecrets(report.description, newKeys: newKeys)

            // The new key works; the old one is gone from IAM and rejected by STS.
            let identity = try await world.sts.getCallerIdentity(credentials: newKeys)
            #expect(identity.arn.hasSuffix(":user/alice"))
            let listed = try await world.iam.listAccessKeys(userName: "alice", credentials: newKeys)
            #expect(listed.map(\.accessKeyId) == [newKeys.accessKeyId])
            let rejected = await #expect(throws: AWSQueryError.self) { try await world.sts.getCallerIdentity(credentials: world.keys) }
            #expect(rejected?.code == "InvalidClientTokenId")

            // botocore reads the rewritten file and its new key works.
            var environment = ProcessInfo.processInfo.environment
            environment["AWS_SHARED_CREDENTIALS_FILE"] = world.directory.file("credentials")
            environment["AWS_CONFIG_FILE"] = "/dev/null"
            for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] { environment[name] = nil }
            let boto = try await ProcessRunner.run(
                ["python3", "-c", Self.botoScript, world.server.endpoint], configuration: .init(timeout: .seconds(60), environment: environment))
            #expect(boto.exitStatus == 0, "\(String(decoding: boto.stderr, as: UTF8.self).suffix(500))")
            #expect(String(decoding: boto.stdout, as: UTF8.self).contains(":user/alice"))

            // Key age for scheduled rotation comes from the new key's CreateDate.
            let age = try await world.rotation().keyAge()
            #expect(age.accessKeyId == newKeys.accessKeyId)
            #expect(abs(age.age) < 600)
        } catch {
            try await world.close()
            throw error
        }
        try await world.close()
    }

    @Test func twoKeysAlreadyChangeNothing() async throws {
        let world = try await World(extraKeys: 1)
        do {
            let error = try await #require(throws: KeyRotationError.self) { try await world.rotation().rotate() }
            #expect(error.stage == .twoKeyLimit)
            #expect(error.changedNothing)
            #expect(try world.directory.read("credentials") == world.original.text)
            let listed = try await world.iam.listAccessKeys(userName: "alice", credentials: world.keys)
            #expect(Set(listed.map(\.accessKeyId)) == Set([world.keys.accessKeyId] + world.extraKeys))
            #expect(error.description.contains(try #require(world.extraKeys.first)))
            world.expectNoSecrets(error.description)
        } catch {
            try await world.close()
            throw error
        }
        try await world.close()
    }

    @Test func failedDeleteOfTheOldKeyLeavesTheWorkingNewKeyAndNamesTheOldOne() async throws {
        let world = try await World()
        do {
            let failingDelete = IAMClient(
                transport: FailingActionTransport(inner: world.transport, failingAction: "DeleteAccessKey"), endpoint: world.iamEndpoint,
                wallClock: SystemWallClock(), retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .zero, maxDelay: .zero), logger: world.logger)
            let error = try await #require(throws: KeyRotationError.self) { try await world.rotation(iam: failingDelete).rotate() }
            let newKeys = try world.writer.sourceKeys(inSection: "alice")

            #expect(error.stage == .deletingOldKey)
            #expect(error.inventory?.fileHolds == newKeys.accessKeyId)
            #expect(error.inventory?.leftoverKeys == [world.keys.accessKeyId])
            #expect(error.description.contains("\(world.keys.accessKeyId) (inactive)"))
            #expect(error.description.contains("--access-key-id \(world.keys.accessKeyId)"))
            #expect(error.description.contains("ServiceFailure") && error.description.contains("req-injected"))
            world.expectNoSecrets(error.description, newKeys: newKeys)
            #expect(try world.directory.read("credentials") == world.original.replacingKeys(with: newKeys))

            _ = try await world.sts.getCallerIdentity(credentials: newKeys)
            let listed = try await world.iam.listAccessKeys(userName: "alice", credentials: newKeys)
            #expect(Set(listed.map(\.accessKeyId)) == [world.keys.accessKeyId, newKeys.accessKeyId])
            #expect(listed.first { $0.accessKeyId == world.keys.accessKeyId }?.status == .inactive)
        } catch {
            try await world.close()
            throw error
        }
        try await world.close()
    }
}

/// The real transport, except that one action gets the 500 an IAM outage would give.
struct FailingActionTransport: STSTransport {
    let inner: any STSTransport
    let failingAction: String

    func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
        guard String(decoding: request.body, as: UTF8.self).hasPrefix("Action=\(failingAction)&") else { return try await inner.send(request) }
        let body = """
            <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>ServiceFailure</Code>\
            <Message>injected by the test</Message></Error><RequestId>req-injected</RequestId></ErrorResponse>
            """
        return TransportResponse(status: 500, body: Array(body.utf8))
    }
}
