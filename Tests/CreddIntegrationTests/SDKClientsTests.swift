import CreddTestSupport
import Foundation
import Testing

/// Independent AWS clients given credentials by the real `credd` daemon the ways a user points them
/// at it, each then making a call to moto with signature checks on (so only the role credd assumed
/// can pass): IMDSv2 with both forms of `AWS_EC2_METADATA_SERVICE_ENDPOINT`, and the container API
/// through `eval "$(credd env dev)"` and `credd exec dev`, with the token and with the token file.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct SDKClientsTests {
    /// How a user points a client at credd.
    enum Route: String, CaseIterable, CustomStringConvertible {
        /// `AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT`, the form of the SDKs' docs.
        case imds
        /// `…:PORT/`, the form every client accepts (AWS CLI v2 joins the path without a slash).
        case imdsTrailingSlash
        /// `eval "$(credd env dev)"` in bash, then only the token: what an SDK older than late 2023 reads.
        case envToken
        /// `credd exec dev -- …` with only the token file: what an SDK that prefers the file reads.
        case execTokenFile
        /// `credd exec dev -- …` as it is: both.
        case exec

        var description: String { rawValue }
        var isIMDS: Bool { self == .imds || self == .imdsTrailingSlash }
    }

    /// One client: its command line and what its output must contain, by route.
    struct Client: Sendable {
        var argv: [String]
        var expected: @Sendable (Route) -> String

        init(argv: [String], expected: @escaping @Sendable (Route) -> String) {
            self.argv = argv
            self.expected = expected
        }

        init(argv: [String], expected: String) {
            self.init(argv: argv) { _ in expected }
        }
    }

    static let role = "assumed-role/Developer/alice"
    /// Where scripts/install-deps puts the Python clients' virtual environments.
    static let clientsDirectory: String = {
        let environment = ProcessInfo.processInfo.environment
        return environment["CREDD_TEST_CLIENTS"] ?? ((environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache") + "/credd-test-clients")
    }()
    static let venvPython = clientsDirectory + "/py3/bin/python"
    static let newSDKPython = clientsDirectory + "/py312/bin/python"

    /// Runs `client` by `route` against a running daemon; the shell is bash, as a user's would be.
    func run(_ client: Client, _ route: Route, _ harness: CreddHarness) throws -> ChildProcess.Output {
        // moto answers for every service on one port.
        var extra = ["AWS_ENDPOINT_URL": harness.stsEndpoint ?? ""]
        extra["PATH"] =
            URL(fileURLWithPath: CreddHarness.binary).deletingLastPathComponent().path + ":" + (harness.environment["PATH"] ?? "/usr/bin:/bin")
        let line: String
        switch route {
        case .imds, .imdsTrailingSlash:
            extra["AWS_EC2_METADATA_DISABLED"] = "false"
            extra["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:\(harness.endpointPort)" + (route == .imds ? "" : "/")
            line = #"exec "$@""#
        case .envToken:
            line = #"eval "$(credd env dev)" && unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE && exec "$@""#
        case .execTokenFile:
            line = #"exec credd exec dev -- env -u AWS_CONTAINER_AUTHORIZATION_TOKEN "$@""#
        case .exec:
            line = #"exec credd exec dev -- "$@""#
        }
        return try harness.run(["bash", "-c", line, "bash"] + client.argv, extra: extra)
    }

    /// moto with an IAM user allowed `actions` and its role, a daemon serving that role as `dev`
    /// (also on IMDS), and moto's signature checks on.
    func startDaemon(allowing actions: [String] = ["sts:*"]) async throws -> CreddHarness {
        let moto = try await MotoServer.start()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        harness.emulator = moto
        _ = try await SignatureValidationTests.setUp(harness, moto: moto, allowing: actions, creddSettings: "imds_profile = dev")
        try harness.start()
        try harness.waitUntil { (try? harness.cli(["status"]).status) == 0 }
        return harness
    }

    /// `client` by every route: each succeeds and prints what it must, each within 60 s.
    func expectEveryRoute(_ client: Client, allowing actions: [String] = ["sts:*"]) async throws {
        let harness = try await startDaemon(allowing: actions)
        try expect(client, routes: Route.allCases, harness)
        #expect(try harness.stop() == 0)
    }

    func expect(_ client: Client, routes: [Route], _ harness: CreddHarness) throws {
        for route in routes {
            let started = Date()
            let output = try run(client, route, harness)
            #expect(output.status == 0, "\(route): \(output.stderr.suffix(1500))")
            #expect(output.stdout.contains(client.expected(route)), "\(route): \(output.stdout)")
            #expect(Date().timeIntervalSince(started) < 60, "\(route) took too long")
        }
    }

    /// What the botocore-based scripts print: the provider that answered (botocore's name) and the ARN.
    static let botocoreExpectation: @Sendable (Route) -> String = { route in
        (route.isIMDS ? "iam-role" : "container-role") + " arn:aws:sts::123456789012:" + role
    }

    @Test func boto3() async throws {
        let script = """
            import boto3
            session = boto3.Session()
            print(session.get_credentials().method, session.client("sts").get_caller_identity()["Arn"])
            """
        try await expectEveryRoute(Client(argv: ["python3", "-c", script], expected: Self.botocoreExpectation))
    }

    @Test func awsCLI() async throws {
        try await expectEveryRoute(Client(argv: ["aws", "sts", "get-caller-identity", "--output", "text"], expected: Self.role))
    }

    @Test func aiobotocore() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.venvPython), "aiobotocore is not installed: run scripts/install-deps")
        let script = """
            import asyncio
            from aiobotocore.session import get_session
            async def main():
                session = get_session()
                method = (await session.get_credentials()).method
                async with session.create_client("sts") as sts:
                    print(method, (await sts.get_caller_identity())["Arn"])
            asyncio.run(main())
            """
        try await expectEveryRoute(Client(argv: [Self.venvPython, "-c", script], expected: Self.botocoreExpectation))
    }

    /// aws-c-auth's default chain (awscrt has no service clients): it signs a GetCallerIdentity
    /// request, which urllib sends.
    @Test func awscrt() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.venvPython), "awscrt is not installed: run scripts/install-deps")
        let script = """
            import io, os, urllib.request
            from awscrt import auth, http
            from awscrt import io as crtio
            loop = crtio.EventLoopGroup(1)
            chain = auth.AwsCredentialsProvider.new_default_chain(crtio.ClientBootstrap(loop, crtio.DefaultHostResolver(loop)))
            credentials = chain.get_credentials().result(timeout=30)
            endpoint = os.environ["AWS_ENDPOINT_URL_STS"]
            body = b"Action=GetCallerIdentity&Version=2011-06-15"
            headers = http.HttpHeaders([("Host", endpoint.split("//")[1]), ("Content-Type", "application/x-www-form-urlencoded")])
            request = http.HttpRequest("POST", "/", headers, io.BytesIO(body))
            static = auth.AwsCredentialsProvider.new_static(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
            config = auth.AwsSigningConfig(credentials_provider=static, region="us-east-1", service="sts")
            signed = auth.aws_sign_request(request, config).result(timeout=30)
            answer = urllib.request.urlopen(urllib.request.Request(endpoint + "/", body, dict(signed.headers)), timeout=30).read().decode()
            print(answer.split("<Arn>")[1].split("</Arn>")[0])
            """
        try await expectEveryRoute(Client(argv: [Self.venvPython, "-c", script], expected: Self.role))
    }

    /// The AWS SDK for Python built on smithy-python (aws-sdk-*, 0.x), with its HTTP and IMDS
    /// credential packages; it has no STS client, so it lists SNS topics.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: newSDKPython), "no Python 3.12 here for the new Python SDK: see scripts/install-deps"))
    func newPythonSDK() async throws {
        let script = """
            import asyncio
            from aws_sdk_sns.client import AsyncSNSClient
            from aws_sdk_sns.models import ListTopicsInput
            print(asyncio.run(AsyncSNSClient().list_topics(ListTopicsInput())))
            """
        let client = Client(argv: [Self.newSDKPython, "-W", "ignore", "-c", script], expected: "ListTopicsOutput(topics=[]")
        try await expectEveryRoute(client, allowing: ["sts:*", "sns:*"])
    }

    /// Go clients built with Debian's aws-sdk-go-v2 and aws-sdk-go (rclone) read only
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`, not the file: why `credd env` exports both.
    func expectTokenOnly(_ client: Client, allowing actions: [String] = ["sts:*"]) async throws {
        let harness = try await startDaemon(allowing: actions)
        try expect(client, routes: Route.allCases.filter { $0 != .execTokenFile }, harness)
        let fileOnly = try run(client, .execTokenFile, harness)
        #expect(fileOnly.status != 0, "\(fileOnly.stdout)")
        #expect(!fileOnly.stdout.contains(client.expected(.execTokenFile)))
        #expect(try harness.stop() == 0)
    }

    /// A program built offline against Debian's golang-github-aws-aws-sdk-go-v2-dev (GOPATH mode):
    /// the default credential chain, then GetCallerIdentity at `AWS_ENDPOINT_URL` (this SDK
    /// release predates that variable).
    @Test func goSDKv2() async throws {
        let directory = try TemporaryDirectory(prefix: "credd-go-client")
        let program = try Self.buildGoProgram(in: directory)
        try await expectTokenOnly(Client(argv: [program], expected: Self.role))
    }

    /// rclone (Debian's, on aws-sdk-go v1) with `--s3-env-auth`: makes a bucket and lists it.
    @Test func rclone() async throws {
        try #require(ChildProcess.executable(named: "rclone") != nil, "rclone is not installed: run scripts/install-deps")
        let script = #"""
            set -e
            # Path-style addressing (provider Other): bucket host names would need DNS. Few retries: bounded.
            flags="--s3-provider Other --s3-env-auth --s3-endpoint $AWS_ENDPOINT_URL --s3-region us-east-1 --retries 1 --low-level-retries 2"
            rclone mkdir :s3:credd-bucket $flags
            rclone lsd :s3: $flags
            """#
        try await expectTokenOnly(Client(argv: ["sh", "-c", script], expected: "credd-bucket"), allowing: ["sts:*", "s3:*"])
    }

    static let goSource = """
        package main

        import (
            "context"
            "fmt"
            "os"

            "github.com/aws/aws-sdk-go-v2/aws"
            "github.com/aws/aws-sdk-go-v2/config"
            "github.com/aws/aws-sdk-go-v2/service/sts"
        )

        func main() {
            ctx := context.Background()
            cfg, err := config.LoadDefaultConfig(ctx)
            if err != nil {
                fmt.Fprintln(os.Stderr, "config:", err)
                os.Exit(1)
            }
            client := sts.NewFromConfig(cfg, func(o *sts.Options) {
                o.EndpointResolver = sts.EndpointResolverFromURL(os.Getenv("AWS_ENDPOINT_URL"))
            })
            out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
            if err != nil {
                fmt.Fprintln(os.Stderr, "sts:", err)
                os.Exit(1)
            }
            fmt.Println(aws.ToString(out.Arn))
        }

        """

    /// ``goSource`` built in `directory`, with the user's Go build cache (a cold build of the
    /// SDK takes about a minute on two cores; later ones, seconds).
    static func buildGoProgram(in directory: TemporaryDirectory) throws -> String {
        try #require(ChildProcess.executable(named: "go") != nil, "go is not installed: run scripts/install-deps")
        try directory.write("main.go", goSource)
        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOPATH"] = "/usr/share/gocode"
        environment["GOFLAGS"] = ""
        let output = directory.file("sts-identity")
        let build = try ChildProcess.run(["go", "build", "-o", output, directory.file("main.go")], environment: environment, timeout: 600)
        guard build.status == 0 else { throw TestSupportError("go build failed: \(build.stderr.suffix(2000))") }
        return output
    }
}
