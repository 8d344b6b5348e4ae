import CreddCore
import CreddPlatform
import CreddSTS
import CreddTestSupport
import Foundation
import Testing

/// moto_server validates SigV4 once signature checking is on (`moto/core/authorization.py`,
/// `moto/iam/access_control.py`: it recomputes the signature with botocore from the access key
/// it stores). The test creates the IAM user, key and role with auth off (no IAM client exists
/// in credd), then turns checking on, so every STS call below is signature-checked.
@Suite(.serialized) struct MotoIntegrationTests {
    static let callerIdentityScript = #"""
        import os, sys, boto3
        sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1")
        print(sts.get_caller_identity()["Arn"])
        """#

    @Test(.enabled(if: MotoServer.isAvailable, "moto_server is not on PATH: install moto (pip install 'moto[server]')"))
    func signatureCheckedAssumeRoleAndGetSessionToken() async throws {
        let server = try await MotoServer.start()
        defer { server.stop() }
        let endpoint = server.endpoint

        let alice = try await server.createUser("alice", allowing: ["sts:*"], assumableRole: "Developer")
        try await server.enableSignatureValidation()
        let user = alice.credentials
        let roleArn = try #require(alice.roleArn)

        let transport = HTTPClientSTSTransport()
        let client = STSClient(
            transport: transport, endpoint: server.endpointURL, signingRegion: "us-east-1", wallClock: SystemWallClock(),
            retryPolicy: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10)))
        do {
            // A correct signature is accepted.
            let role = try await client.assumeRole(
                credentials: user, AssumeRoleRequest(roleArn: roleArn, roleSessionName: "credd-it", durationSeconds: 900))
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
            let wrongSecret = AWSCredentials(accessKeyId: user.accessKeyId, secretAccessKey: Secret("WRONG/secret/key/0000000000000000000000"))
            let mismatch = await #expect(throws: STSError.self) {
                try await client.assumeRole(credentials: wrongSecret, AssumeRoleRequest(roleArn: roleArn, roleSessionName: "x1"))
            }
            #expect(mismatch?.code == "SignatureDoesNotMatch")
            #expect(mismatch?.httpStatus == 403)
            #expect(mismatch?.disposition == .needsChange)
            #expect(mismatch?.description.contains("WRONG/secret") == false)

            // An unknown access key id.
            let unknown = AWSCredentials(accessKeyId: "AKIAEXAMPLE000000000", secretAccessKey: user.secretAccessKey)
            let invalid = await #expect(throws: STSError.self) {
                try await client.getCallerIdentity(credentials: unknown)
            }
            #expect(invalid?.code == "InvalidClientTokenId")
            #expect(invalid?.disposition == .needsChange)
            #expect(invalid?.description.contains(user.secretAccessKey.revealed) == false)
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }
}
