import CreddTestSupport
import Foundation
import Testing

/// The real `credd` against moto: a role assumed with every AssumeRole option, and the session's
/// account wherever an SDK can read it (the IMDS documents, the extended IMDS path, the container
/// API, `credential-process`, `aws_account_id` read back by boto3).
@Suite(.serialized, .enabled(if: MotoServer.isAvailable, "moto_server is not installed: run scripts/install-deps"))
struct AccountIdAndRoleOptionsTests {
    /// moto's default account, which its GetCallerIdentity reports for any key.
    static let motoAccount = "123456789012"

    static func config(port: Int) -> String {
        """
        [credd]
        listen = 127.0.0.1:\(port)
        imds_profile = tagged

        # GetSessionToken without an MFA ARN: the account comes from GetCallerIdentity
        [profile plain]
        source_profile = alice-long-term

        [profile tagged]
        source_profile = alice-long-term
        role_arn = arn:aws:iam::210987654321:role/Tagged
        role_session_name = alice
        duration_seconds = 1h
        source_identity = alice
        session_tags = team=infra, project=credd
        transitive_session_tags = team
        policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess
        policy_file = tagged-policy.json
        write_credentials = false
        """
    }

    /// Fetches, with no proxy, the IMDS listing and documents (both paths) and the container
    /// documents, and prints only what is not secret: the listing, `Code` and `AccountId`.
    static let fetcher = """
        import json, sys, urllib.request
        port, token_file = sys.argv[1], sys.argv[2]
        base = 'http://127.0.0.1:' + port
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        def get(path, headers):
            return opener.open(urllib.request.Request(base + path, headers=headers), timeout=5).read().decode()
        put = urllib.request.Request(base + '/latest/api/token', method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})
        imds = {'X-aws-ec2-metadata-token': opener.open(put, timeout=5).read().decode()}
        container = {'Authorization': open(token_file).read()}
        out = {'listing': get('/latest/meta-data/iam/security-credentials-extended/', imds)}
        for name, path, headers in [
            ('extended', '/latest/meta-data/iam/security-credentials-extended/tagged', imds),
            ('legacy', '/latest/meta-data/iam/security-credentials/tagged', imds),
            ('container-tagged', '/v1/credentials/tagged', container),
            ('container-plain', '/v1/credentials/plain', container),
        ]:
            document = json.loads(get(path, headers))
            out[name] = [document.get('Code'), document.get('AccountId')]
        print(json.dumps(out))
        """

    /// Keeps each AssumeRole form the daemon sends, one JSON object a line, before it goes on to
    /// moto (an AssumeRole body without MFA holds no secret; headers are not kept).
    static let recordingHook = #"""
        if form.get("Action") == "AssumeRole":
            with open(extra, "a") as out:
                out.write(json.dumps(form) + "\n")
        """#

    /// The AssumeRole forms the proxy saw, oldest first.
    static func assumeRoleCalls(_ record: String) -> [[String: String]] {
        let text = (try? String(contentsOfFile: record, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
    }

    static let policy = #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#
    static let editedPolicy = #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}"#

    @Test func roleOptionsReachSTSAndTheAccountReachesEverySDKPath() throws {
        let moto = try MotoServer()
        let recordDirectory = try TemporaryDirectory(prefix: "credd-sts-record")
        defer { recordDirectory.remove() }
        let record = recordDirectory.file("assume-role.jsonl")
        let proxy = try LoopbackServer(STSRelay.arguments(upstream: moto.endpoint, extra: record, hook: Self.recordingHook))
        defer { proxy.stop() }
        let harness = try CreddHarness(stsEndpoint: proxy.endpoint.absoluteString)
        harness.emulator = moto
        try harness.writeCredentials(DaemonEndToEndTests.userSection)
        try harness.writeConfig(Self.config(port: harness.endpointPort))
        _ = try harness.directory.write("home/.config/credd/tagged-policy.json", Self.policy)

        let check = try harness.cli(["check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        for row in [
            "  source id: alice",
            "  tags:      team=infra, project=credd (transitive: team)",
            "  policies:  arn:aws:iam::aws:policy/ReadOnlyAccess, inline from \(harness.home)/.config/credd/tagged-policy.json",
            "  sts:       \(proxy.endpoint.absoluteString) (signing region us-east-1), from AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL",
        ] {
            #expect(check.stdout.contains(row), "missing: \(row)\n\(check.stdout)")
        }

        try harness.start()
        try harness.waitUntil { try harness.cli(["status"]).status == 0 }

        // Every option reached STS as the query protocol spells it.
        let sent = try #require(Self.assumeRoleCalls(record).last, "no AssumeRole reached the proxy")
        #expect(sent["RoleArn"] == "arn:aws:iam::210987654321:role/Tagged")
        #expect(sent["RoleSessionName"] == "alice")
        #expect(sent["DurationSeconds"] == "3600")
        #expect(sent["SourceIdentity"] == "alice")
        #expect(sent["Tags.member.1.Key"] == "team" && sent["Tags.member.1.Value"] == "infra")
        #expect(sent["Tags.member.2.Key"] == "project" && sent["Tags.member.2.Value"] == "credd")
        #expect(sent["TransitiveTagKeys.member.1"] == "team")
        #expect(sent["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess")
        #expect(sent["Policy"] == #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)

        // The managed section carries the account; boto3 reads it back as the credentials' account.
        let file = try harness.credentialsFile()
        #expect(file.contains("[plain]\n# managed by credd\n"))
        #expect(file.contains("aws_account_id = \(Self.motoAccount)\n"), "\(file)")
        let boto3 = try harness.run([
            "python3", "-c", "import boto3; print(boto3.Session(profile_name='plain').get_credentials().get_frozen_credentials().account_id)",
        ])
        #expect(boto3.status == 0, "\(boto3.stderr)")
        #expect(boto3.stdout == Self.motoAccount + "\n")

        let process = try harness.cli(["credential-process", "tagged"])
        #expect(process.status == 0, "\(process.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(process.stdout.utf8)) as? [String: Any])
        #expect(json["AccountId"] as? String == "210987654321", "the role ARN's account")
        let plainProcess = try harness.cli(["credential-process", "plain"])
        #expect(plainProcess.stdout.contains("\"AccountId\":\"\(Self.motoAccount)\""))

        // boto3 takes the account from credd's credential-process output and container document.
        _ = try harness.directory.write(
            "home/.aws/config", "[profile via-process]\ncredential_process = \(CreddHarness.binary) credential-process tagged\n")
        let accountOf =
            "import boto3, sys; print(boto3.Session(profile_name=sys.argv[1] or None).get_credentials().get_frozen_credentials().account_id)"
        let viaProcess = try harness.run(["python3", "-c", accountOf, "via-process"])
        #expect(viaProcess.stdout == "210987654321\n", "\(viaProcess.stderr)")
        let viaContainer = try harness.run(
            ["python3", "-c", accountOf, ""],
            extra: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(harness.endpointPort)/v1/credentials/plain",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": harness.runtimeDirectory + "/credd/token",
            ])
        #expect(viaContainer.stdout == Self.motoAccount + "\n", "\(viaContainer.stderr)")

        let fetched = try harness.run(["python3", "-c", Self.fetcher, String(harness.endpointPort), harness.runtimeDirectory + "/credd/token"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(fetched.stdout.utf8)) as? [String: Any])
        #expect(documents["listing"] as? String == "tagged")
        #expect(documents["extended"] as? [String] == ["Success", "210987654321"])
        #expect(documents["legacy"] as? [String] == ["Success", "210987654321"])
        #expect((documents["container-tagged"] as? [Any])?.last as? String == "210987654321")
        #expect((documents["container-plain"] as? [Any])?.last as? String == Self.motoAccount)

        // An edited policy is another session: the one in service is replaced, with the new policy.
        _ = try harness.directory.write("home/.config/credd/tagged-policy.json", Self.editedPolicy)
        try harness.waitUntil { Self.assumeRoleCalls(record).last?["Policy"]?.contains("s3:ListBucket") == true }

        let exit = try harness.stop()
        #expect(exit == 0)
        let outputs = harness.daemonLog() + check.stdout + fetched.stdout + boto3.stdout + boto3.stderr + viaProcess.stderr + viaContainer.stderr
        for secret in [DaemonEndToEndTests.longTermSecret] + harness.secretsInHome() {
            #expect(!outputs.contains(secret), "a secret leaked")
        }
    }
}
