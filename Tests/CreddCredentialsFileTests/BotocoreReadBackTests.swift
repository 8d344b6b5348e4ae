import CreddCore
import CreddCredentialsFile
import CreddTestSupport
import Foundation
import Testing

@Suite("botocore reads what credd writes")
struct BotocoreReadBackTests {
    /// Prints, per profile, the credentials botocore's shared-credentials provider resolves,
    /// after checking that `raw_config_parse` accepts the whole file.
    static let script = """
        import json, sys
        import botocore.configloader, botocore.session
        path = sys.argv[1]
        botocore.configloader.raw_config_parse(path)
        out = {}
        for profile in sys.argv[2:]:
            session = botocore.session.Session(profile=profile)
            c = session.get_credentials().get_frozen_credentials()
            out[profile] = [c.access_key, c.secret_key, c.token]
        print(json.dumps(out))
        """

    /// Runs the script with the AWS variables replaced, so nothing of a real setup leaks in.
    func botocoreCredentials(path: String, profiles: [String]) throws -> [String: [String?]] {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }.merging([
            "AWS_SHARED_CREDENTIALS_FILE": path,
            "AWS_CONFIG_FILE": path + ".absent-config",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONUTF8": "1",
        ]) { _, new in new }
        let run = try ChildProcess.run(["python3", "-c", Self.script, path] + profiles, environment: environment)
        try #require(run.status == 0, "python3 with botocore must be installed, and must accept the file")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: [Any]])
        return parsed.mapValues { values in values.map { $0 as? String } }
    }

    @Test("new and rewritten sections give botocore the new credentials; other profiles are untouched")
    func botocoreReadsWrittenFile() throws {
        let directory = try TemporaryDirectory(prefix: "credd-writer")
        defer { directory.remove() }
        let original =
            "# keep me\r\n[default]\r\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\r\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\r\n\r\n[dev]\n# managed by credd\naws_access_key_id = ASIAOLD\naws_secret_access_key = old\naws_session_token = old-token\naws_security_token = stale-token\nx_security_token_expires = 2020-01-01T00:00:00Z\n\n[other]\naws_access_key_id=AKIAOTHEREXAMPLE\naws_secret_access_key=other-secret\naws_session_token = other-token"
        try directory.write("credentials", original, mode: nil)
        let writer = CredentialsFileWriter(path: directory.path + "/credentials", clock: Fixtures.clock)
        try writer.apply([
            // The identity line beside the expiry is ignored by botocore, like the expiry.
            .write(section: "dev", credentials: Fixtures.session("dev"), identity: "0123456789abcdef0123456789abcdef"),
            .write(section: "prod", credentials: Fixtures.session("prod")),
        ])
        let seen = try botocoreCredentials(path: directory.path + "/credentials", profiles: ["default", "dev", "prod", "other"])
        #expect(seen["default"] == ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", nil])
        #expect(seen["dev"] == ["ASIADEVEXAMPLE", "FAKE-SECRET-dev", "FAKE-TOKEN-dev"])
        #expect(seen["prod"] == ["ASIAPRODEXAMPLE", "FAKE-SECRET-prod", "FAKE-TOKEN-prod"])
        #expect(seen["other"] == ["AKIAOTHEREXAMPLE", "other-secret", "other-token"])
    }
}

@Suite("aws_account_id in managed sections")
struct AccountIdSectionTests {
    static let script = """
        import json, sys
        import botocore.session
        out = {}
        for profile in sys.argv[1:]:
            c = botocore.session.Session(profile=profile).get_credentials().get_frozen_credentials()
            out[profile] = getattr(c, 'account_id', 'botocore without account_id')
        print(json.dumps(out))
        """

    @Test("the session's account is written, read back by credd and by botocore, and removed when unknown")
    func accountIdWrittenAndReadBack() throws {
        let directory = try TemporaryDirectory(prefix: "credd-account")
        defer { directory.remove() }
        let path = directory.path + "/credentials"
        let writer = CredentialsFileWriter(path: path, clock: Fixtures.clock)
        try writer.apply([
            .write(section: "dev", credentials: Fixtures.session("dev").withAccountId("222222222222"), identity: "feedface"),
            .write(section: "plain", credentials: Fixtures.session("plain")),
        ])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("aws_security_token = FAKE-TOKEN-dev\naws_account_id = 222222222222\nx_security_token_expires = "))
        #expect(try writer.storedSessions()["dev"]?.credentials.accountId == "222222222222")
        #expect(try writer.storedSessions()["plain"]?.credentials.accountId == nil)

        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }.merging([
            "AWS_SHARED_CREDENTIALS_FILE": path, "AWS_CONFIG_FILE": path + ".absent-config", "AWS_EC2_METADATA_DISABLED": "true",
        ]) { _, new in new }
        let run = try ChildProcess.run(["python3", "-c", Self.script, "dev", "plain"], environment: environment)
        try #require(run.status == 0, "python3 with botocore must be installed: \(run.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(seen["dev"] as? String == "222222222222", "botocore reads aws_account_id: \(run.stdout)")
        #expect(seen["plain"] is NSNull)

        // A later session of unknown account must not keep the earlier one's.
        try writer.apply([.write(section: "dev", credentials: Fixtures.session("dev"), identity: "feedface")])
        #expect(try !String(contentsOfFile: path, encoding: .utf8).contains("aws_account_id"))
        #expect(try writer.storedSessions()["dev"]?.credentials.accountId == nil)
    }
}
