import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddRefresh
import CreddSTS
import CreddTestSupport
import Foundation
import Glibc
import InMemoryLogging
import Logging
import Testing

@testable import CreddDaemon

/// A home with alice's long-term keys, an MFA profile `mfa` on them and a role `dev` chained on
/// `mfa`; `edit` rewrites lines of the config before loading.
private func loadChain(
    in home: TemporaryDirectory, mfaExtra: String = "", devExtra: String = "", mfaSerial: String = "arn:aws:iam::111111111111:mfa/alice",
    roleArn: String = "arn:aws:iam::222222222222:role/Developer", keyId: String = "AKIAIOSFODNN7EXAMPLE"
) throws -> LoadedConfiguration {
    _ = try home.write(".aws/credentials", "[alice]\naws_access_key_id = \(keyId)\naws_secret_access_key = not-a-real-secret\n")
    let config = try home.write(
        "config",
        """
        [profile mfa]
        source_profile = alice
        mfa_serial = \(mfaSerial)
        \(mfaExtra)

        [profile dev]
        source_profile = mfa
        role_arn = \(roleArn)
        \(devExtra)

        [profile plain]
        source_profile = alice
        role_arn = arn:aws:iam::222222222222:role/Plain
        write_credentials = false
        """)
    let configuration = try ConfigLoader.load(explicitPath: config, environment: ["HOME": home.path])
    try #require(configuration.errors.isEmpty, "\(configuration.errors)")
    return configuration
}

@Suite("profile identity")
struct ProfileIdentityTests {
    @Test("duration, region, mfa_process and comments leave the identity; role, serial and external id change it")
    func whatCounts() throws {
        let home = try TemporaryDirectory(prefix: "credd-identity")
        defer { home.remove() }
        let base = ProfileIdentity.digests(of: try loadChain(in: home).profiles)
        #expect(base.count == 3)
        #expect(base.values.allSatisfy { $0.count == ProfileIdentity.length })
        #expect(Set(base.values).count == 3)

        let settingsOnly = ProfileIdentity.digests(
            of: try loadChain(
                in: home, mfaExtra: "duration_seconds = 3600\nmfa_process = echo 123456\n# a comment",
                devExtra: "region = eu-west-1\nduration_seconds = 900"
            ).profiles)
        #expect(settingsOnly == base)

        let newRole = ProfileIdentity.digests(of: try loadChain(in: home, roleArn: "arn:aws:iam::222222222222:role/Admin").profiles)
        #expect(newRole["mfa"] == base["mfa"])
        #expect(newRole["dev"] != base["dev"])

        let externalId = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "external_id = abc").profiles)
        #expect(externalId["dev"] != base["dev"])

        // A new device is a new session for the MFA profile and everything chained on it.
        let newSerial = ProfileIdentity.digests(of: try loadChain(in: home, mfaSerial: "arn:aws:iam::111111111111:mfa/bob").profiles)
        #expect(newSerial["mfa"] != base["mfa"])
        #expect(newSerial["dev"] != base["dev"])

        // The AssumeRole options say what the session may do and who it claims to be.
        let withIdentity = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "source_identity = alice").profiles)
        let withTags = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "session_tags = team=infra").profiles)
        let otherTags = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "session_tags = team=data").profiles)
        let withPolicy = ProfileIdentity.digests(
            of: try loadChain(in: home, devExtra: "policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess").profiles)
        _ = try home.write("policy.json", #"{"Statement": []}"#)
        let inline = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "policy_file = policy.json").profiles)
        _ = try home.write("policy.json", #"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#)
        let editedInline = ProfileIdentity.digests(of: try loadChain(in: home, devExtra: "policy_file = policy.json").profiles)
        let variants = [base, withIdentity, withTags, otherTags, withPolicy, inline, editedInline]
        #expect(Set(variants.compactMap { $0["dev"] }).count == variants.count)
        #expect(variants.allSatisfy { $0["mfa"] == base["mfa"] && $0["plain"] == base["plain"] })
    }

    @Test("a rotated key keeps an MFA profile's identity (the device names the user), not a plain profile's")
    func rotation() throws {
        let home = try TemporaryDirectory(prefix: "credd-identity")
        defer { home.remove() }
        let base = ProfileIdentity.digests(of: try loadChain(in: home).profiles)
        let rotated = ProfileIdentity.digests(of: try loadChain(in: home, keyId: "AKIAROTATEDEXAMPLE01").profiles)
        #expect(rotated["mfa"] == base["mfa"])
        #expect(rotated["dev"] == base["dev"])
        #expect(rotated["plain"] != base["plain"])
    }
}

/// A renewer for engines that only adopt here: any renewal is a test failure.
private struct NoRenewals: CredentialRenewer {
    func renew(profile: ProfileSpec, source: AWSCredentials?, mfaCode: Secret?) async throws(RefreshFailure) -> AWSCredentials {
        Issue.record("unexpected renewal of \(profile.name)")
        throw RefreshFailure(disposition: .needsChange, message: "unexpected")
    }
}

private struct NoSink: CredentialSink {
    func apply(_ batch: [CredentialUpdate]) async {}
}

@Suite("sessions kept across restarts", .serialized)
struct SessionAdoptionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func session(_ tag: String, validFor seconds: TimeInterval) -> AWSCredentials {
        AWSCredentials(
            accessKeyId: "ASIA\(tag.uppercased())KEPT", secretAccessKey: Secret("kept-secret-\(tag)"),
            sessionToken: Secret("kept-token-\(tag)"), expiration: now.addingTimeInterval(seconds))
    }

    @Test("at start, a valid session with this identity is adopted from the file; expired or foreign ones are not")
    func adoptsFromFile() async throws {
        let home = try TemporaryDirectory(prefix: "credd-adopt")
        defer { home.remove() }
        let configuration = try loadChain(in: home)
        let clock = ManualWallClock(Self.now)
        let identities = ProfileIdentity.digests(of: configuration.profiles)
        let writer = CredentialsFileWriter(path: configuration.settings.credentialsFile, clock: clock)
        try writer.apply([
            .write(section: "mfa", credentials: Self.session("mfa", validFor: 6 * 3600), identity: identities["mfa"]),
            .write(section: "dev", credentials: Self.session("dev", validFor: 1800), identity: "another-definition"),
        ])
        let specs = ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys())
        let directory = ProfileDirectory(configuration)
        let keyring = SessionKeyring(scope: home.path, profiles: directory, wallClock: clock, logger: Logger(label: "test"), calls: .unavailable)
        let engine = RefreshEngine(profiles: specs, renewer: NoRenewals(), sink: NoSink(), wallClock: clock, logger: Logger(label: "test"))
        let adopted = await SessionAdoption.adopt(
            into: engine, specs: specs, configuration: configuration, keyring: keyring, wallClock: clock, logger: Logger(label: "test"))
        #expect(adopted == ["mfa"])
        #expect(await engine.credentials(for: "mfa") == Self.session("mfa", validFor: 6 * 3600))
        #expect(await engine.credentials(for: "dev") == nil)
        // Its 12-hour session started 6 hours before it ends: the code is asked with 4 hours
        // left, moved earlier by at most 10 % of the lifetime (jitter).
        let status = try #require(await engine.statuses().first { $0.name == "mfa" })
        #expect(status.state == .fresh)
        let askAt = try #require(status.nextRefresh)
        #expect(askAt <= Self.now.addingTimeInterval(2 * 3600))
        #expect(askAt >= Self.now.addingTimeInterval(2 * 3600 - 0.1 * 12 * 3600))

        clock.advance(by: 7 * 3600)
        let later = RefreshEngine(profiles: specs, renewer: NoRenewals(), sink: NoSink(), wallClock: clock, logger: Logger(label: "test"))
        #expect(
            await SessionAdoption.adopt(
                into: later, specs: specs, configuration: configuration, keyring: keyring, wallClock: clock, logger: Logger(label: "test")
            ).isEmpty)
    }

    @Test("the user keyring keeps a write_credentials = false session, scoped to this config, until withdrawn")
    func keyringRoundTrip() async throws {
        let home = try TemporaryDirectory(prefix: "credd-keyring")
        defer { home.remove() }
        let configuration = try loadChain(in: home)
        let clock = ManualWallClock(Self.now)
        let directory = ProfileDirectory(configuration)
        let keyring = SessionKeyring(scope: home.path, profiles: directory, wallClock: clock, logger: Logger(label: "test"))
        guard SessionKeyring.Calls.live.search("credd:probe:\(getpid())") != -Int(ENOSYS) else {
            print("skipped: this kernel or sandbox has no key management (keyctl: ENOSYS)")
            return
        }
        let credentials = Self.session("plain", validFor: 3600)
        await keyring.apply([.published(profile: "plain", credentials: credentials)])
        let entry = try #require(keyring.entry(for: "plain"), "keyctl must work where it is not refused")
        #expect(entry.credentials == credentials)
        #expect(entry.identity == ProfileIdentity.digests(of: configuration.profiles)["plain"])
        #expect(entry.obtainedAt == Self.now)
        // Another config of the same user does not see it.
        let other = SessionKeyring(scope: home.path + "/other", profiles: directory, wallClock: clock, logger: Logger(label: "test"))
        #expect(other.entry(for: "plain") == nil)
        // Profiles that write the file are never put in the keyring.
        await keyring.apply([.published(profile: "mfa", credentials: Self.session("mfa", validFor: 3600))])
        #expect(keyring.entry(for: "mfa") == nil)

        let specs = ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys())
        let engine = RefreshEngine(profiles: specs, renewer: NoRenewals(), sink: NoSink(), wallClock: clock, logger: Logger(label: "test"))
        #expect(
            await SessionAdoption.adopt(
                into: engine, specs: specs, configuration: configuration, keyring: keyring, wallClock: clock, logger: Logger(label: "test")) == [
                    "plain"
                ])

        await keyring.apply([.withdrawn(profile: "plain", reason: .removed)])
        #expect(keyring.entry(for: "plain") == nil)
    }

    @Test("where the keyring is refused (EPERM, ENOSYS), sessions are quietly not kept, with one notice")
    func keyringUnavailable() async throws {
        let home = try TemporaryDirectory(prefix: "credd-keyring")
        defer { home.remove() }
        let configuration = try loadChain(in: home)
        let logs = InMemoryLogHandler()
        let keyring = SessionKeyring(
            scope: home.path, profiles: ProfileDirectory(configuration), wallClock: ManualWallClock(Self.now),
            logger: Logger.recording(into: logs), calls: .unavailable)
        await keyring.apply([.published(profile: "plain", credentials: Self.session("plain", validFor: 3600))])
        await keyring.apply([.published(profile: "plain", credentials: Self.session("plain", validFor: 3600))])
        #expect(keyring.entry(for: "plain") == nil)
        #expect(logs.renderedLines.filter { $0.contains("user keyring is unavailable") }.count == 1)
        #expect(!logs.renderedText.contains("kept-secret"))
        #expect(!logs.renderedText.contains("kept-token"))
    }

    @Test("a payload that is not credd's is ignored")
    func payloadFormat() {
        let entry = SessionKeyring.Entry(identity: "id", credentials: Self.session("x", validFor: 60), obtainedAt: Self.now)
        #expect(SessionKeyring.decode(SessionKeyring.encode(entry)) == entry)
        #expect(SessionKeyring.decode(Array("something else".utf8)) == nil)
        let withAccount = SessionKeyring.Entry(
            identity: "id", credentials: Self.session("x", validFor: 60).withAccountId("123456789012"), obtainedAt: Self.now)
        #expect(SessionKeyring.decode(SessionKeyring.encode(withAccount))?.credentials.accountId == "123456789012")
        // An entry an older credd kept has no account field.
        let older = "credd-session-1\nid\nASIAOLDEXAMPLE\nsecret\ntoken\n2030-01-01T00:00:00Z\n2029-01-01T00:00:00Z"
        #expect(SessionKeyring.decode(Array(older.utf8))?.credentials.accessKeyId == "ASIAOLDEXAMPLE")
        #expect(SessionKeyring.decode(Array(older.utf8))?.credentials.accountId == nil)
        #expect(SessionKeyring.decode(Array("credd-session-1\nid\nkey\n\ntoken\n2030-01-01T00:00:00Z\n2029-01-01T00:00:00Z".utf8)) == nil)
    }
}

extension SessionKeyring.Calls {
    /// Every call refused as a container's seccomp filter refuses keyctl.
    static let unavailable = SessionKeyring.Calls(
        linkUserKeyring: { -Int(EPERM) }, add: { _, _ in -Int(EPERM) }, search: { _ in -Int(ENOSYS) }, read: { _ in nil },
        setTimeout: { _, _ in -Int(EPERM) }, invalidate: { _ in -Int(EPERM) })
}

@Suite("an unknown session key means the source renews")
struct RejectedSourceSessionTests {
    /// STS refusing every call as it refuses a revoked or unknown key.
    struct InvalidClientTokenId: STSTransport {
        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            let body = """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>
                  <RequestId>4fc0d3ee-efef-11e9-9282-3b7bffe54a9b</RequestId>
                </ErrorResponse>
                """
            return TransportResponse(status: 403, body: Array(body.utf8))
        }
    }

    @Test("InvalidClientTokenId with a managed source's session asks that source to renew; with static keys it needs a change")
    func disposition() async throws {
        let home = try TemporaryDirectory(prefix: "credd-rejected")
        defer { home.remove() }
        let configuration = try loadChain(in: home)
        let clock = ManualWallClock(SessionAdoptionTests.now)
        let renewer = STSRenewer(
            profiles: ProfileDirectory(configuration), transport: InvalidClientTokenId(), wallClock: clock, logger: Logger(label: "test"),
            keyring: SecretServiceKeys(environment: [:]))
        let specs = Dictionary(uniqueKeysWithValues: ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys()).map { ($0.name, $0) })
        let source = SessionAdoptionTests.session("mfa", validFor: 3600)
        let dev = try #require(specs["dev"])
        let plain = try #require(specs["plain"])
        do throws(RefreshFailure) {
            _ = try await renewer.renew(profile: dev, source: source, mfaCode: nil)
            Issue.record("the renewal must fail")
        } catch {
            #expect(error.disposition == .sourceExpired)
            #expect(error.message.contains("InvalidClientTokenId"))
            #expect(!error.message.contains("kept-secret") && !error.message.contains("kept-token"))
        }
        do throws(RefreshFailure) {
            _ = try await renewer.renew(profile: plain, source: nil, mfaCode: nil)
            Issue.record("the renewal must fail")
        } catch {
            #expect(error.disposition == .needsChange)
        }
    }
}
