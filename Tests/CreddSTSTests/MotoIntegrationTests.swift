import CreddCore
import CreddSTS
import Foundation
import Testing

/// moto_server validates SigV4 once its count of unauthenticated actions is used up
/// (`moto/core/authorization.py`, `moto/iam/access_control.py`: it recomputes the signature
/// with botocore from the access key it stores). The test leaves auth off while it creates the
/// IAM user, key and role with boto3 (no IAM client exists in credd), then POSTs `0` to
/// `/moto-api/reset-auth`, so every STS call below is signature-checked.
@Suite(.serialized) struct MotoIntegrationTests {
    static let available = LoopbackServer.which("moto_server") != nil && LoopbackServer.which("python3") != nil

    static let setupScript = #"""
        import json, sys, urllib.request, boto3
        endpoint = sys.argv[1]
        kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
        iam = boto3.client("iam", **kw)
        user = iam.create_user(UserName="alice")["User"]
        iam.put_user_policy(UserName="alice", PolicyName="sts", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sts:*"], "Resource": "*"}]}))
        key = iam.create_access_key(UserName="alice")["AccessKey"]
        role = iam.create_role(RoleName="Developer", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}))["Role"]
        iam.put_role_policy(RoleName="Developer", PolicyName="sts", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sts:*"], "Resource": "*"}]}))
        request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request).read()
        print(json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"], "RoleArn": role["Arn"]}))
        """#

    static let callerIdentityScript = #"""
        import os, sys, boto3
        sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1")
        print(sts.get_caller_identity()["Arn"])
        """#

    struct SetupOutput: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var RoleArn: String
    }

    @Test(.enabled(if: available, "moto_server or python3 is not on PATH: install moto (pip install 'moto[server]')"))
    func signatureCheckedAssumeRoleAndGetSessionToken() async throws {
        let dir = try ScriptDirectory()
        let server = try await LoopbackServer(["moto_server", "-H", "127.0.0.1", "-p", "{PORT}"], logFile: dir.url.appendingPathComponent("moto.log"))
        defer { server.stop() }
        let endpoint = server.endpoint.absoluteString

        let setup = try await ProcessRunner.run(["python3", "-c", Self.setupScript, endpoint], configuration: .init(timeout: .seconds(60)))
        try #require(setup.exitStatus == 0, "setup failed: \(String(decoding: setup.stderr, as: UTF8.self).suffix(800))")
        let keys = try JSONDecoder().decode(SetupOutput.self, from: Data(setup.stdout))
        let user = AWSCredentials(accessKeyId: keys.AccessKeyId, secretAccessKey: Secret(keys.SecretAccessKey))

        let transport = HTTPClientSTSTransport()
        let client = STSClient(
            transport: transport, endpoint: server.endpoint, signingRegion: "us-east-1", wallClock: SystemWallClock(),
            retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10)))
        do {
            // A correct signature is accepted.
            let role = try await client.assumeRole(
                credentials: user, AssumeRoleRequest(roleArn: keys.RoleArn, roleSessionName: "credd-it", durationSeconds: 900))
            #expect(role.assumedRoleArn?.hasSuffix(":assumed-role/Developer/credd-it") == true)
            #expect(role.credentials.isComplete)
            #expect(role.credentials.isValid(at: Date()))

            // The session works for GetCallerIdentity, through credd's client and through boto3.
            let identity = try await client.getCallerIdentity(credentials: role.credentials)
            #expect(identity.arn.contains(":assumed-role/Developer/credd-it"))
            var environment = ProcessInfo.processInfo.environment
            environment["AWS_ACCESS_KEY_ID"] = role.credentials.accessKeyId
            environment["AWS_SECRET_ACCESS_KEY"] = role.credentials.secretAccessKey.revealed
            environment["AWS_SESSION_TOKEN"] = role.credentials.sessionToken?.revealed
            environment["AWS_CONFIG_FILE"] = "/dev/null"
            environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
            let boto = try await ProcessRunner.run(
                ["python3", "-c", Self.callerIdentityScript, endpoint], configuration: .init(timeout: .seconds(60), environment: environment))
            #expect(boto.exitStatus == 0, "\(String(decoding: boto.stderr, as: UTF8.self).suffix(500))")
            #expect(String(decoding: boto.stdout, as: UTF8.self).contains(":assumed-role/Developer/credd-it"))

            // GetSessionToken with the user's keys is signature-checked too.
            let session = try await client.getSessionToken(credentials: user, durationSeconds: 900, mfa: nil)
            #expect(session.credentials.isComplete)

            // A wrong secret is rejected as a signature mismatch, not as skew.
            let wrongSecret = AWSCredentials(accessKeyId: keys.AccessKeyId, secretAccessKey: Secret("WRONG/secret/key/0000000000000000000000"))
            let mismatch = await #expect(throws: STSError.self) {
                try await client.assumeRole(credentials: wrongSecret, AssumeRoleRequest(roleArn: keys.RoleArn, roleSessionName: "x1"))
            }
            #expect(mismatch?.code == "SignatureDoesNotMatch")
            #expect(mismatch?.httpStatus == 403)
            #expect(mismatch?.disposition == .needsChange)
            #expect(mismatch?.description.contains("WRONG/secret") == false)

            // An unknown access key id.
            let unknown = AWSCredentials(accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: Secret(keys.SecretAccessKey))
            let invalid = await #expect(throws: STSError.self) {
                try await client.getCallerIdentity(credentials: unknown)
            }
            #expect(invalid?.code == "InvalidClientTokenId")
            #expect(invalid?.disposition == .needsChange)
            #expect(invalid?.description.contains(keys.SecretAccessKey) == false)
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }
}
