import CreddTestSupport
import Foundation
import Testing

/// The daemon against moto with signature validation on: a role assumed straight from a real
/// (emulated) IAM user's keys, and a wrong secret reported as such.
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct SignatureValidationTests {
    /// Creates an IAM user with a key and a role, then turns moto's signature checks on.
    /// Prints "KEY_ID SECRET ROLE_ARN" (captured by the test, never shown).
    static let bootstrap = """
        import boto3, json, sys, urllib.request
        endpoint = sys.argv[1]
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="AKIDBOOTSTRAPEXAMPLE", aws_secret_access_key="bootstrap")
        user = iam.create_user(UserName="alice")["User"]
        iam.put_user_policy(UserName="alice", PolicyName="everything", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="alice")["AccessKey"]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                 "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName="Developer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="Developer", PolicyName="sts", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}))
        urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0",
                               headers={"Content-Type": "text/plain"}, method="POST"))
        print(key["AccessKeyId"], key["SecretAccessKey"], role)
        """

    static func setUp(_ harness: CreddHarness, moto: MotoServer, secretOverride: String? = nil) throws -> (secret: String, role: String) {
        let output = try harness.run(["python3", "-c", Self.bootstrap, moto.endpoint])
        let fields = output.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard output.status == 0, fields.count == 3 else { throw TestSupportError("moto bootstrap failed (exit \(output.status))") }
        try harness.writeCredentials("""
            [alice]
            aws_access_key_id = \(fields[0])
            aws_secret_access_key = \(secretOverride ?? fields[1])

            """)
        try harness.writeConfig("""
            [credd]
            listen = 127.0.0.1:\(harness.endpointPort)

            [profile dev]
            source_profile = alice
            role_arn = \(fields[2])
            role_session_name = alice
            """)
        return (fields[1], fields[2])
    }

    @Test func aRoleAssumedFromSignedStaticKeysIsServedAndWorks() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        let (secret, _) = try Self.setUp(harness, moto: moto)
        try harness.start()
        try harness.waitUntil { (try? harness.cli(["status"]).status) == 0 }

        let identity = try harness.run(["aws", "sts", "get-caller-identity", "--profile", "dev", "--output", "text"])
        #expect(identity.status == 0, "\(identity.stderr)")
        #expect(identity.stdout.contains("assumed-role/Developer/alice"))
        let viaEndpoint = try harness.run(["bash", "-c", "eval \"$(\(CreddHarness.binary) env dev)\" && aws sts get-caller-identity --output text"])
        #expect(viaEndpoint.status == 0, "\(viaEndpoint.stderr)")
        try harness.stop()
        #expect(!harness.daemonLog().contains(secret))
    }

    @Test func aWrongSecretIsReportedAsSignatureDoesNotMatchWithoutRetrying() throws {
        let moto = try MotoServer()
        let harness = try CreddHarness(stsEndpoint: moto.endpoint)
        let wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGSECRET"
        _ = try Self.setUp(harness, moto: moto, secretOverride: wrong)
        try harness.start()
        var status = try harness.cli(["status", "--json"])
        try harness.waitUntil {
            status = try harness.cli(["status", "--json"])
            return status.stdout.contains("\"state\" : \"error\"")
        }
        #expect(status.status == 1)
        #expect(status.stdout.contains("SignatureDoesNotMatch"))
        let table = try harness.cli(["status"])
        #expect(table.stdout.contains("SignatureDoesNotMatch"))
        try harness.stop()
        for output in [status.stdout, table.stdout, harness.daemonLog()] {
            #expect(!output.contains(wrong), "the secret must not appear in status or logs")
        }
    }
}
