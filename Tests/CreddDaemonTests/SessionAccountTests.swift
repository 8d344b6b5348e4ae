import CreddConfig
import CreddCore
import CreddRefresh
import CreddSTS
import CreddTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CreddDaemon

/// Which account the renewer says a session belongs to, and what it asks STS to find out.
@Suite("the account of a renewed session")
struct SessionAccountTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Answers each STS action with a fixed document and records the actions asked for;
    /// GetCallerIdentity fails with AccessDenied when `callerIdentityFails`.
    final class ScriptedSTS: STSTransport {
        let actions = Mutex<[String]>([])
        let callerIdentityFails: Bool

        init(callerIdentityFails: Bool = false) {
            self.callerIdentityFails = callerIdentityFails
        }

        var asked: [String] { actions.withLock { $0 } }

        func send(_ request: TransportRequest) async throws(TransportError) -> TransportResponse {
            let body = String(decoding: request.body, as: UTF8.self)
            let action = body.split(separator: "&").first { $0.hasPrefix("Action=") }.map { String($0.dropFirst(7)) } ?? "?"
            actions.withLock { $0.append(action) }
            let credentials = """
                <Credentials><AccessKeyId>ASIASESSIONEXAMPLE</AccessKeyId><SecretAccessKey>session-secret</SecretAccessKey>
                <SessionToken>session-token</SessionToken><Expiration>2027-01-15T09:00:00Z</Expiration></Credentials>
                """
            let xml: String
            switch action {
            case "AssumeRole":
                xml =
                    "<AssumeRoleResponse><AssumeRoleResult>\(credentials)<AssumedRoleUser><Arn>arn:aws:sts::999999999999:assumed-role/R/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"
            case "GetSessionToken":
                xml = "<GetSessionTokenResponse><GetSessionTokenResult>\(credentials)</GetSessionTokenResult></GetSessionTokenResponse>"
            case "GetCallerIdentity" where callerIdentityFails:
                let error =
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error><RequestId>r</RequestId></ErrorResponse>"
                return TransportResponse(status: 403, body: Array(error.utf8))
            case "GetCallerIdentity":
                xml =
                    "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>444444444444</Account><Arn>arn:aws:iam::444444444444:user/alice</Arn><UserId>AIDAEXAMPLE</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>"
            default:
                return TransportResponse(status: 400, body: Array("unexpected \(action)".utf8))
            }
            return TransportResponse(status: 200, body: Array(xml.utf8))
        }
    }

    static let config = """
        [profile role]
        source_profile = alice
        role_arn = arn:aws:iam::222222222222:role/Developer

        [profile mfa]
        source_profile = alice
        mfa_serial = arn:aws:iam::111111111111:mfa/alice

        [profile hardware]
        source_profile = alice
        mfa_serial = GAHT12345678

        [profile plain]
        source_profile = alice

        [profile declared]
        source_profile = declared-keys
        """

    func renew(_ name: String, transport: ScriptedSTS, code: String? = nil) async throws -> AWSCredentials {
        let home = try TemporaryDirectory(prefix: "credd-account")
        defer { home.remove() }
        _ = try home.write(
            ".aws/credentials",
            """
            [alice]
            aws_access_key_id = AKIAIOSFODNN7EXAMPLE
            aws_secret_access_key = not-a-real-secret

            [declared-keys]
            aws_access_key_id = AKIAIOSFODNN8EXAMPLE
            aws_secret_access_key = not-a-real-secret
            aws_account_id = 555555555555

            """)
        let config = try home.write("config", Self.config)
        let configuration = try ConfigLoader.load(explicitPath: config, environment: ["HOME": home.path])
        try #require(configuration.errors.isEmpty, "\(configuration.errors)")
        let renewer = STSRenewer(
            profiles: ProfileDirectory(configuration), transport: transport, wallClock: ManualWallClock(Self.now), logger: Logger(label: "test"),
            keyring: SecretServiceKeys(environment: [:]))
        let spec = try #require(ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys()).first { $0.name == name })
        do throws(RefreshFailure) {
            return try await renewer.renew(profile: spec, source: nil, mfaCode: code.map(Secret.init))
        } catch {
            Issue.record("renewal failed: \(error.message)")
            throw error
        }
    }

    @Test("a role's account comes from its ARN, without asking STS")
    func role() async throws {
        let transport = ScriptedSTS()
        #expect(try await renew("role", transport: transport).accountId == "222222222222")
        #expect(transport.asked == ["AssumeRole"])
    }

    @Test("a session's account comes from the mfa_serial ARN, else aws_account_id of its keys, without asking STS")
    func declared() async throws {
        let mfa = ScriptedSTS()
        #expect(try await renew("mfa", transport: mfa, code: "123456").accountId == "111111111111")
        #expect(mfa.asked == ["GetSessionToken"])
        let declared = ScriptedSTS()
        #expect(try await renew("declared", transport: declared).accountId == "555555555555")
        #expect(declared.asked == ["GetSessionToken"])
    }

    @Test("where nothing says it, one GetCallerIdentity per session finds it", arguments: ["plain", "hardware"])
    func callerIdentity(profile: String) async throws {
        let transport = ScriptedSTS()
        #expect(try await renew(profile, transport: transport, code: "123456").accountId == "444444444444")
        #expect(transport.asked == ["GetSessionToken", "GetCallerIdentity"])
    }

    @Test("a failed GetCallerIdentity leaves the account unknown; the session is still renewed")
    func callerIdentityFails() async throws {
        let transport = ScriptedSTS(callerIdentityFails: true)
        let credentials = try await renew("plain", transport: transport)
        #expect(credentials.accessKeyId == "ASIASESSIONEXAMPLE")
        #expect(credentials.accountId == nil)
        #expect(transport.asked.first == "GetSessionToken")
        #expect(transport.asked.dropFirst().allSatisfy { $0 == "GetCallerIdentity" })
    }
}
