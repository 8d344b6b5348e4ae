import CreddCore
import CreddTestSupport
import Foundation
import InMemoryLogging
import Synchronization
import Testing

@testable import CreddEndpoint

/// Real AWS clients (botocore/boto3 and the AWS CLI) fetching credentials from a running endpoint.
/// They never see the real `~/.aws`: HOME and the config files point into a temporary directory.
@Suite(.serialized)
struct SDKClientTests {
    let credentials = FakeCredentials.make(expiration: Date().addingTimeInterval(3600))
    let source = FakeCredentialSource()

    init() {
        source.set(.available(credentials, roleArn: "arn:aws:iam::222222222222:role/Developer", lastUpdated: Date()), for: "dev")
    }

    /// Resolves credentials through botocore's default chain, then calls STS if an endpoint is given.
    static let botocoreScript = """
        import json, os, sys, boto3
        session = boto3.Session()
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials()
        result = {"method": credentials.method, "access_key": frozen.access_key, "secret_key": frozen.secret_key, "token": frozen.token}
        if os.environ.get("AWS_ENDPOINT_URL_STS"):
            result["account"] = session.client("sts").get_caller_identity()["Account"]
        print(json.dumps(result))
        """

    /// What `credd exec dev` sets, for an endpoint on `port`.
    static func container(port: Int, tokenFile: String, region: String? = nil) -> [String: String] {
        let settings = ShellEnvironment.Settings(
            profile: "dev", endpoint: .init(port: port), tokenFile: tokenFile, token: TestEndpoint.containerToken, region: region)
        return ShellEnvironment.applying(settings, to: [:])
    }

    func expectCredentials(_ result: ChildProcess.Output, method: String) throws {
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let fields = try #require(object as? [String: String], "\(result.stdout)")
        #expect(fields["method"] == method)
        #expect(fields["access_key"] == credentials.accessKeyId)
        #expect(fields["secret_key"] == credentials.secretAccessKey.revealed)
        #expect(fields["token"] == credentials.sessionToken?.revealed)
    }

    @Test(arguments: [false, true])
    func botocoreUsesTheImdsV2Flow(v1Disabled: Bool) async throws {
        let homeDirectory = try TemporaryDirectory(prefix: "credd-boto-imds")
        defer { homeDirectory.remove() }
        let home = homeDirectory.url
        let logs = InMemoryLogHandler()
        try await TestEndpoint.withRunning(source: source, logHandler: logs) { port in
            var extra = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)/"]
            if v1Disabled { extra["AWS_EC2_METADATA_V1_DISABLED"] = "true" }
            let result = try await ChildProcess.runOnDedicatedThread(
                ["python3", "-c", Self.botocoreScript], environment: isolatedAWSEnvironment(home: home, extra))
            try expectCredentials(result, method: "iam-role")
        }
        // The token was issued and the credentials fetched with it.
        let routes = logs.entries.compactMap { $0.metadata["http.route"].map { "\($0)" } }
        #expect(routes.contains("imds.token"))
        #expect(logs.entries.contains { $0.metadata["http.route"] == "imds.credentials" && $0.metadata["http.status"] == "200" })
        #expect(!logs.entries.contains { $0.metadata["http.status"] == "401" })
    }

    @Test func botocoreUsesTheContainerApiWithTheTokenFile() async throws {
        let homeDirectory = try TemporaryDirectory(prefix: "credd-boto-container")
        defer { homeDirectory.remove() }
        let home = homeDirectory.url
        let tokenFile = home.appendingPathComponent("runtime/credd/token").path
        try FileManager.default.createDirectory(atPath: home.appendingPathComponent("runtime").path, withIntermediateDirectories: true)
        try ContainerToken.write(TestEndpoint.containerToken, to: tokenFile)
        try await TestEndpoint.withRunning(source: source) { port in
            let extra = Self.container(port: port, tokenFile: tokenFile, region: "eu-west-1")
            let result = try await ChildProcess.runOnDedicatedThread(
                ["python3", "-c", Self.botocoreScript], environment: isolatedAWSEnvironment(home: home, extra))
            try expectCredentials(result, method: "container-role")
        }
    }

    @Test func botocoreGetsNoCredentialsFromAnExpiredProfile() async throws {
        let homeDirectory = try TemporaryDirectory(prefix: "credd-boto-expired")
        defer { homeDirectory.remove() }
        let home = homeDirectory.url
        source.set(.available(FakeCredentials.make(expiration: Date().addingTimeInterval(-60)), roleArn: nil, lastUpdated: Date()), for: "dev")
        let tokenFile = home.appendingPathComponent("token").path
        try ContainerToken.write(TestEndpoint.containerToken, to: tokenFile)
        try await TestEndpoint.withRunning(source: source) { port in
            let container = Self.container(port: port, tokenFile: tokenFile)
            let result = try await ChildProcess.runOnDedicatedThread(
                ["python3", "-c", Self.botocoreScript], environment: isolatedAWSEnvironment(home: home, container))
            #expect(result.status != 0)
            #expect(result.stderr.contains("503") || result.stderr.contains("CredentialRetrievalError"), "\(result.stderr)")
            #expect(!result.stdout.contains("ASIA"))
        }
    }

    @Test func awsCliGetsCredentialsBothWaysAndCallsSts() async throws {
        let homeDirectory = try TemporaryDirectory(prefix: "credd-awscli")
        defer { homeDirectory.remove() }
        let home = homeDirectory.url
        let tokenFile = home.appendingPathComponent("token").path
        try ContainerToken.write(TestEndpoint.containerToken, to: tokenFile)
        let moto = try await MotoServer.start(environment: isolatedAWSEnvironment(home: home, [:]))
        defer { moto.stop() }
        let stsURL = moto.endpoint
        try await TestEndpoint.withRunning(source: source) { port in
            let imds = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)/", "AWS_EC2_METADATA_V1_DISABLED": "true"]
            let container = Self.container(port: port, tokenFile: tokenFile)
            for extra in [imds, container] {
                let environment = isolatedAWSEnvironment(home: home, extra.merging(["AWS_ENDPOINT_URL_STS": stsURL]) { $1 })
                // awscli v1 has no `configure export-credentials`; its debug log shows the
                // signed request instead: the key id in the credential scope and the session token header.
                let identity = try await ChildProcess.runOnDedicatedThread(
                    ["aws", "--debug", "sts", "get-caller-identity", "--output", "json"], environment: environment)
                #expect(identity.status == 0, "\(identity.stderr.suffix(2000))")
                #expect(identity.stdout.contains("\"Account\""))
                #expect(identity.stderr.contains("Credential=\(credentials.accessKeyId)/"))
                #expect(identity.stderr.contains(try #require(credentials.sessionToken).revealed))
            }
        }
    }

    @Test func boto3PicksUpRenewedCredentialsOnAHeldClient() async throws {
        let homeDirectory = try TemporaryDirectory(prefix: "credd-boto-rotation")
        defer { homeDirectory.remove() }
        let home = homeDirectory.url
        let tokenFile = home.appendingPathComponent("token").path
        try ContainerToken.write(TestEndpoint.containerToken, to: tokenFile)
        let marker = home.appendingPathComponent("renewed").path
        // Five minutes left: inside botocore's refresh windows, so it asks again before each call
        // (the container provider has no static-stability extension, unlike IMDS).
        let rotating = MarkerRotatingSource(
            marker: marker,
            before: FakeCredentials.make(generation: 1, expiration: Date().addingTimeInterval(300)),
            after: FakeCredentials.make(generation: 2, expiration: Date().addingTimeInterval(300))
        )
        let script = """
            import json, sys, boto3
            seen = []
            def capture(request, **kwargs):
                value = request.headers["Authorization"]
                value = value.decode() if isinstance(value, bytes) else value
                seen.append(value.split("Credential=")[1].split("/")[0])
            client = boto3.Session().client("sts")
            client.meta.events.register("before-send.sts.GetCallerIdentity", capture)
            client.get_caller_identity()
            open(sys.argv[1], "w").close()
            client.get_caller_identity()
            print(json.dumps(seen))
            """
        let moto = try await MotoServer.start(environment: isolatedAWSEnvironment(home: home, [:]))
        defer { moto.stop() }
        let stsURL = moto.endpoint
        try await TestEndpoint.withRunning(source: rotating) { port in
            var extra = Self.container(port: port, tokenFile: tokenFile)
            extra["AWS_ENDPOINT_URL_STS"] = stsURL
            let result = try await ChildProcess.runOnDedicatedThread(
                ["python3", "-c", script, marker], environment: isolatedAWSEnvironment(home: home, extra))
            #expect(result.status == 0, "\(result.stderr)")
            let keys = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String]
            #expect(keys == [rotating.before.accessKeyId, rotating.after.accessKeyId])
        }
    }
}

/// Serves `before` until a marker file exists, then `after`: a renewal the client script triggers
/// at a known point, so the test needs no timing.
final class MarkerRotatingSource: EndpointCredentialSource {
    let marker: String
    let before: AWSCredentials
    let after: AWSCredentials

    init(marker: String, before: AWSCredentials, after: AWSCredentials) {
        self.marker = marker
        self.before = before
        self.after = after
    }

    func lookup(profile: String) -> EndpointLookup {
        guard profile == "dev" else { return .unknown }
        let renewed = FileManager.default.fileExists(atPath: marker)
        return .available(renewed ? after : before, roleArn: nil, lastUpdated: Date())
    }
}
