import CreddCore
import Foundation

/// A real `moto_server` (STS/IAM emulator) on a free loopback port, for the life of a test.
public final class MotoServer: Sendable {
    private let server: LoopbackServer

    public var port: Int { server.port }
    /// `http://127.0.0.1:port`, for clients that take a URL.
    public var endpointURL: URL { server.endpoint }
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Whether `moto_server` is installed (scripts/install-deps installs it).
    public static var isAvailable: Bool { ChildProcess.executable(named: "moto_server") != nil }

    /// Starts the server and waits (bounded) until it answers.
    /// `environment` adds variables such as `INITIAL_NO_AUTH_ACTION_COUNT` (signature checking).
    public init(environment: [String: String] = [:]) throws {
        server = try LoopbackServer(["moto_server", "-H", "127.0.0.1", "-p", "{PORT}"], environment: environment)
    }

    /// ``init(environment:)`` from async code: the wait for the port happens on a dedicated thread.
    public static func start(environment: [String: String] = [:]) async throws -> MotoServer {
        try await onDedicatedThread { () throws -> MotoServer in try MotoServer(environment: environment) }
    }

    public func stop() { server.stop() }
}

/// An IAM user made in the emulator by ``MotoServer/createUser(_:allowing:extraKeys:assumableRole:)``.
public struct MotoUser: Sendable {
    /// The user's first access key.
    public let credentials: AWSCredentials
    /// The ids of the further keys asked for.
    public let extraAccessKeyIds: [String]
    /// The role made alongside the user, if one was asked for.
    public let roleArn: String?
}

extension MotoServer {
    /// Creates IAM user `name` allowed `actions`, with an access key plus `extraKeys` more and,
    /// with `role`, a role of that name the user may assume, allowed the same actions. Uses boto3
    /// with dummy keys, so call it before ``enableSignatureValidation()``.
    public func createUser(
        _ name: String, allowing actions: [String], extraKeys: Int = 0, assumableRole role: String? = nil
    ) async throws -> MotoUser {
        let request = try JSONSerialization.data(
            withJSONObject: [
                "user": name, "actions": actions, "extra_keys": extraKeys, "role": role ?? "",
            ] as [String: Any])
        let output = try await runPython(Self.createUserScript, String(decoding: request, as: UTF8.self))
        struct Created: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var extraAccessKeyIds: [String]
            var roleArn: String?
        }
        let created = try JSONDecoder().decode(Created.self, from: Data(output.utf8))
        return MotoUser(
            credentials: AWSCredentials(accessKeyId: created.accessKeyId, secretAccessKey: Secret(created.secretAccessKey)),
            extraAccessKeyIds: created.extraAccessKeyIds, roleArn: created.roleArn)
    }

    /// Makes every later request signature- and policy-checked: POSTs `0` to
    /// `/moto-api/reset-auth`, moto's count of unauthenticated actions left
    /// (`moto/core/authorization.py` recomputes each signature with botocore).
    public func enableSignatureValidation() async throws {
        _ = try await runPython(Self.resetAuthScript, "0")
    }

    private func runPython(_ script: String, _ argument: String) async throws -> String {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["AWS_CONFIG_FILE"] = "/dev/null"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        let result = try await ChildProcess.runOnDedicatedThread(
            ["python3", "-c", script, endpoint, argument], environment: environment, timeout: 60)
        guard result.status == 0 else { throw TestSupportError("moto setup failed: \(result.stderr.suffix(800))") }
        return result.stdout
    }

    private static let createUserScript = #"""
        import json, sys, boto3
        endpoint, request = sys.argv[1], json.loads(sys.argv[2])
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": request["actions"], "Resource": "*"}]})
        user = iam.create_user(UserName=request["user"])["User"]
        iam.put_user_policy(UserName=request["user"], PolicyName="test", PolicyDocument=policy)
        key = iam.create_access_key(UserName=request["user"])["AccessKey"]
        extra = [iam.create_access_key(UserName=request["user"])["AccessKey"]["AccessKeyId"] for _ in range(request["extra_keys"])]
        role_arn = None
        if request["role"]:
            trust = json.dumps({"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]})
            role_arn = iam.create_role(RoleName=request["role"], AssumeRolePolicyDocument=trust)["Role"]["Arn"]
            iam.put_role_policy(RoleName=request["role"], PolicyName="test", PolicyDocument=policy)
        print(json.dumps({"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"],
                          "extraAccessKeyIds": extra, "roleArn": role_arn}))
        """#

    private static let resetAuthScript = #"""
        import sys, urllib.request
        request = urllib.request.Request(sys.argv[1] + "/moto-api/reset-auth", data=sys.argv[2].encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request).read()
        """#
}

/// Loopback port helpers.
public enum FreePort {
    /// A port that was free a moment ago: bind port 0, read it, close.
    public static func find() throws -> Int {
        let descriptor = try TCPSocket.bound(listening: false)
        defer { close(descriptor) }
        return try TCPSocket.port(of: descriptor)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = TCPSocket.address("127.0.0.1", port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
