import CreddCore
import CreddTestSupport
import Foundation
import Testing

@testable import CreddSSO

@Suite struct SSOTokenCacheTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// botocore's `SSOTokenLoader` names the files by `hashlib.sha1(name.encode()).hexdigest()`.
    @Test(arguments: ["corp", "my session", "prod-ünïcode"])
    func cacheKeyIsBotocoresSHA1(sessionName: String) throws {
        let script = "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())"
        #expect(SSOTokenCache.key(sessionName: sessionName, startURL: "https://ignored") == (try pythonOutput(script, sessionName)))
        // Legacy profiles (no sso_session) key by the start URL.
        let legacy = try pythonOutput(script, "https://corp.awsapps.com/start")
        #expect(SSOTokenCache.key(sessionName: nil, startURL: "https://corp.awsapps.com/start") == legacy)
    }

    /// The AWS CLI's registration file name: sha1 of `json.dumps(args, sort_keys=True)`.
    @Test(arguments: [["sso:account:access"], [], ["a", "b\"c"]])
    func registrationKeyIsTheAWSCLIs(scopes: [String]) throws {
        let script = #"""
            import hashlib, json, sys
            args = {"tool": "botocore", "startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1",
                    "scopes": json.loads(sys.argv[1]), "session_name": "prod-ünïcode"}
            print(json.dumps(args, sort_keys=True))
            """#
        let scopesJSON = String(decoding: try JSONEncoder().encode(scopes), as: UTF8.self)
        let source = SSORegistrationCache.keySource(
            sessionName: "prod-ünïcode", startURL: "https://corp.awsapps.com/start", region: "eu-west-1", scopes: scopes)
        #expect(source == (try pythonOutput(script, scopesJSON)))
    }

    @Test func storeAndLoadKeepUnknownFieldsWithMode0600InA0700Directory() throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        var token = makeToken(at: now)
        token.otherFields = ["someOtherTool": .object(["nested": .array([.number(1), .bool(true), .null])]), "issuedAt": .number(1_700_000_000)]
        try cache.store(token, sessionName: "corp")

        let loaded = try #require(try cache.load(sessionName: "corp", startURL: token.startURL))
        #expect(loaded == token)
        let file = cache.path(sessionName: "corp", startURL: token.startURL)
        #expect(try mode(of: file) == 0o600)
        #expect(try mode(of: cache.directory) == 0o700)
        #expect(try mode(of: home.path + "/.aws/sso") == 0o700)
        // Only the token file: no temp file left behind.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: cache.directory) == [SSOTokenCache.key(sessionName: "corp", startURL: "") + ".json"])
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("\"issuedAt\":1700000000"))
        #expect(text.contains("\"expiresAt\":\"2027-01-15T09:00:00Z\""))
    }

    @Test func anExistingFileWithAWiderModeBecomes0600() throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        let token = makeToken(at: now)
        try cache.store(token, sessionName: "corp")
        let file = cache.path(sessionName: "corp", startURL: token.startURL)
        chmod(file, 0o644)
        try cache.store(token, sessionName: "corp")
        #expect(try mode(of: file) == 0o600)
    }

    @Test func aMissingFileIsNoToken() throws {
        let home = try TemporaryDirectory()
        #expect(try SSOTokenCache(home: home.path).load(sessionName: "corp", startURL: "x") == nil)
    }

    @Test(arguments: [
        ("not json", "not a JSON object"),
        (#"{"startUrl": "x"}"#, "accessToken or expiresAt is missing"),
        (#"{"accessToken": "secret-access", "expiresAt": "tomorrow"}"#, "expiresAt is not a timestamp"),
        (#"{"accessToken": "secret-access", "expiresAt": "2030-01-01T00:00:00Z", "registrationExpiresAt": 5}"#, ""),
    ])
    func unreadableFilesNameTheFileAndLeakNothing(contents: String, expected: String) throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        let file = cache.path(sessionName: "corp", startURL: "")
        try home.write(".aws/sso/cache/" + (file as NSString).lastPathComponent, contents)
        if expected.isEmpty {
            // A field of another type is not a timestamp credd knows: the token stays usable.
            let token = try #require(try cache.load(sessionName: "corp", startURL: ""))
            #expect(token.registrationExpiresAt == nil)
            return
        }
        #expect {
            try cache.load(sessionName: "corp", startURL: "")
        } throws: { error in
            let error = try #require(error as? SSOError)
            let text = String(describing: error)
            return error.kind == .cacheUnreadable && text.contains(file) && text.contains(expected) && !text.contains("secret-access")
        }
    }

    /// What a hostile neighbour could leave in a cache directory it can write to (the
    /// hostile-neighbours rig does it as a real second uid): none of it is followed, waited on or
    /// trusted, and the error says what to do without a secret.
    enum Planted: String, CaseIterable {
        case symlink, fifo, anotherUsersFile, groupWritableFile
    }

    @Test(arguments: Planted.allCases)
    func aPlantedEntryIsRefusedAtOnceWithoutFollowingIt(planted: Planted) throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        let stored = makeToken(at: now)
        try cache.store(stored, sessionName: "elsewhere")
        let file = cache.path(sessionName: "corp", startURL: "")
        let expected: String
        switch planted {
        case .symlink:
            // A link to a valid token of the user's own: still not read through.
            #expect(symlink(cache.path(sessionName: "elsewhere", startURL: ""), file) == 0)
            expected = "is a symlink"
        case .fifo:
            #expect(mkfifo(file, 0o600) == 0)
            expected = "is a FIFO, not a regular file"
        case .anotherUsersFile:
            guard getuid() == 0 else { return }
            try home.write(".aws/sso/cache/" + (file as NSString).lastPathComponent, String(decoding: SSOTokenCoding.encode(stored), as: UTF8.self))
            #expect(chown(file, 4242, 4242) == 0)
            expected = "belongs to uid 4242"
        case .groupWritableFile:
            try home.write(".aws/sso/cache/" + (file as NSString).lastPathComponent, String(decoding: SSOTokenCoding.encode(stored), as: UTF8.self))
            #expect(chmod(file, 0o620) == 0)
            expected = "is writable by other users (mode 620)"
        }
        let started = ContinuousClock.now
        #expect {
            try cache.load(sessionName: "corp", startURL: "")
        } throws: { error in
            let error = try #require(error as? SSOError)
            let text = String(describing: error)
            return error.kind == .cacheUnreadable && text.contains(file) && text.contains(expected) && !text.contains(stored.accessToken.revealed)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        // A new sign-in replaces the entry itself (never what a link points at) with the user's 0600 file.
        try cache.store(makeToken(at: now, id: "new"), sessionName: "corp")
        #expect(try cache.load(sessionName: "corp", startURL: "")?.accessToken == Secret("access-new"))
        #expect(try cache.load(sessionName: "elsewhere", startURL: "") == stored)
    }

    @Test func aFileOver1MiBIsNotReadAsATokenCache() throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        try cache.store(makeToken(at: now), sessionName: "corp")
        let file = cache.path(sessionName: "corp", startURL: "")
        #expect(truncate(file, (1 << 20) + 1) == 0)
        #expect {
            try cache.load(sessionName: "corp", startURL: "")
        } throws: { error in
            let error = try #require(error as? SSOError)
            return error.kind == .cacheUnreadable && String(describing: error).contains("the file is over 1 MiB, not a token cache")
        }
    }

    @Test func aCacheDirectoryOthersCanWriteToGetsNoToken() throws {
        let home = try TemporaryDirectory()
        let cache = SSOTokenCache(home: home.path)
        try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        #expect(chmod(cache.directory, 0o777) == 0)
        #expect {
            try cache.store(makeToken(at: now), sessionName: "corp")
        } throws: { error in
            let error = try #require(error as? SSOError)
            return error.kind == .cacheWriteFailed && String(describing: error).contains("is writable by other users (mode 777)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory).isEmpty)
        guard getuid() == 0 else { return }
        #expect(chmod(cache.directory, 0o700) == 0 && chown(cache.directory, 4242, 4242) == 0)
        #expect {
            try cache.store(makeToken(at: now), sessionName: "corp")
        } throws: { error in
            String(describing: error).contains("belongs to uid 4242")
        }
    }

    @Test func aWriteThatCannotHappenFailsWithTheFileNamed() throws {
        let home = try TemporaryDirectory()
        // A file where the cache directory should be (works as root, unlike a read-only mode).
        try home.write(".aws/sso/cache", "")
        let cache = SSOTokenCache(home: home.path)
        #expect {
            try cache.store(makeToken(at: now), sessionName: "corp")
        } throws: { error in
            let error = try #require(error as? SSOError)
            return error.kind == .cacheWriteFailed && String(describing: error).contains(cache.path(sessionName: "corp", startURL: ""))
        }
    }

    @Test func descriptionsRedactEverySecret() {
        let token = makeToken(at: now)
        for text in [
            String(describing: token), String(reflecting: token), "\(token)", String(describing: Mirror(reflecting: token).children.map(\.value)),
        ] {
            expectNoSecrets(text, [token.accessToken, token.refreshToken, token.clientSecret])
            #expect(text.contains(token.startURL))
        }
    }

    // MARK: - botocore interop

    /// botocore's own token provider, with a profile in a temporary `~/.aws/config`, reads the
    /// token credd wrote (and would refresh it with the fields credd wrote).
    @Test func botocoreReadsTheCacheCreddWrote() throws {
        let home = try TemporaryDirectory()
        try home.write(
            ".aws/config",
            """
            [profile dev-sso]
            sso_session = corp
            sso_account_id = 111111111111
            sso_role_name = Developer

            [sso-session corp]
            sso_start_url = \(corpSession.startURL)
            sso_region = us-east-1
            sso_registration_scopes = sso:account:access
            """)
        let token = makeToken(at: Date(), lifetime: 3 * 3600)
        try SSOTokenCache(home: home.path).store(token, sessionName: "corp")
        let script = #"""
            import json
            import botocore.session, botocore.tokens, botocore.utils
            session = botocore.session.Session(profile="dev-sso")
            provider = botocore.tokens.SSOTokenProvider(session)
            frozen = provider.load_token().get_frozen_token()
            cached = botocore.utils.SSOTokenLoader(cache=botocore.utils.JSONFileCache(provider._SSO_TOKEN_CACHE_DIR))(
                "https://corp.awsapps.com/start", session_name="corp")
            print(json.dumps({"token": frozen.token, "expiration": frozen.expiration.isoformat(),
                              "refresh": cached["refreshToken"], "clientId": cached["clientId"],
                              "registration": cached["registrationExpiresAt"]}))
            """#
        let output = try runPython(script, home: home.path)
        let read = try JSONDecoder().decode([String: String].self, from: Data(output.utf8))
        #expect(read["token"] == token.accessToken.revealed)
        #expect(read["refresh"] == token.refreshToken?.revealed)
        #expect(read["clientId"] == token.clientId)
        #expect(read["registration"] == AWSTimestamp.format(try #require(token.registrationExpiresAt)))
        #expect(read["expiration"].flatMap(AWSTimestamp.parse) == Date(timeIntervalSince1970: token.expiresAt.timeIntervalSince1970.rounded(.down)))
    }

    /// credd reads a cache as botocore writes it (its own JSONFileCache and `_sso_json_dumps`,
    /// datetimes and all) and as the AWS CLI v2 writes it (extra fields kept on rewrite).
    @Test func creddReadsTheCacheBotocoreWrote() throws {
        let home = try TemporaryDirectory()
        let script = #"""
            import datetime, os
            import botocore.tokens, botocore.utils
            cache = botocore.utils.JSONFileCache(os.path.expanduser("~/.aws/sso/cache"), dumps_func=botocore.tokens._sso_json_dumps)
            loader = botocore.utils.SSOTokenLoader(cache=cache)
            utc = datetime.timezone.utc
            loader.save_token("https://corp.awsapps.com/start", {
                "startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "botocore-access",
                "expiresAt": datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=utc), "clientId": "botocore-client",
                "clientSecret": "botocore-client-secret", "registrationExpiresAt": "2030-03-01T00:00:00Z",
                "refreshToken": "botocore-refresh", "cliExtra": {"kept": True}}, session_name="corp")
            """#
        _ = try runPython(script, home: home.path)
        let cache = SSOTokenCache(home: home.path)
        let file = cache.path(sessionName: "corp", startURL: "")
        #expect(try mode(of: file) == 0o600)
        var token = try #require(try cache.load(sessionName: "corp", startURL: ""))
        #expect(token.accessToken == Secret("botocore-access"))
        #expect(token.expiresAt == AWSTimestamp.parse("2030-01-02T03:04:05Z"))
        #expect(token.refreshToken == Secret("botocore-refresh"))
        #expect(token.clientSecret == Secret("botocore-client-secret"))
        #expect(token.registrationExpiresAt == AWSTimestamp.parse("2030-03-01T00:00:00Z"))
        #expect(token.otherFields == ["cliExtra": .object(["kept": .bool(true)])])
        token.accessToken = Secret("credd-access")
        try cache.store(token, sessionName: "corp")
        let rewritten = try String(contentsOfFile: file, encoding: .utf8)
        #expect(rewritten.contains(#""cliExtra":{"kept":true}"#))
    }

    // MARK: - Helpers

    private func mode(of path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func pythonOutput(_ script: String, _ argument: String) throws -> String {
        let result = try ChildProcess.run(["python3", "-c", script, argument], environment: FakeSSO.pythonEnvironment, timeout: 60)
        try #require(result.status == 0, "\(result.stderr.suffix(600))")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func runPython(_ script: String, home: String) throws -> String {
        var environment = FakeSSO.pythonEnvironment
        environment["HOME"] = home
        environment["AWS_CONFIG_FILE"] = home + "/.aws/config"
        let result = try ChildProcess.run(["python3", "-c", script], environment: environment, timeout: 60)
        try #require(result.status == 0, "\(result.stderr.suffix(800))")
        return result.stdout
    }
}
