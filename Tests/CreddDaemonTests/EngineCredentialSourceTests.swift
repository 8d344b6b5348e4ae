import CreddConfig
import CreddCore
import CreddRefresh
import CreddTestSupport
import Foundation
import Testing

@testable import CreddDaemon
@testable import CreddEndpoint

/// What the endpoint reads from the daemon: the engine's last published credentials per
/// profile, and when there are none, the profile's last state as the reason.
struct EngineCredentialSourceTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let credentials = AWSCredentials(
        accessKeyId: "ASIAENGINESOURCEEXAMPLE",
        secretAccessKey: Secret("engine-source-secret-not-real"),
        sessionToken: Secret("engine-source-session-token-not-real"),
        expiration: now.addingTimeInterval(3600))

    static func makeSource() throws -> (EngineCredentialSource, TemporaryDirectory) {
        let (home, configuration) = try makeRoleProfilesHome(prefix: "credd-engine-source", roles: ["dev": "Developer"])
        return (EngineCredentialSource(profiles: ProfileDirectory(configuration), wallClock: ManualWallClock(now)), home)
    }

    static func reason(_ lookup: EndpointLookup) -> String? {
        if case .unavailable(let reason) = lookup { reason } else { nil }
    }

    @Test func unknownNamesAreUnknown() throws {
        let (source, home) = try Self.makeSource()
        defer { home.remove() }
        guard case .unknown = source.lookup(profile: "nobody") else {
            Issue.record("an unmanaged name must answer unknown")
            return
        }
    }

    @Test func servesPublishedCredentialsUntilWithdrawnAndExplainsTheGap() async throws {
        let (source, home) = try Self.makeSource()
        defer { home.remove() }
        #expect(Self.reason(source.lookup(profile: "dev")) == "profile dev has no valid credentials (state pending)")

        source.record(
            ProfileStatus(
                name: "dev", state: .needsMFA, expiration: nil, nextRefresh: nil, lastRefresh: nil,
                lastError: "needs an MFA code; run `credd login mfa`", sourceProfile: "mfa"))
        #expect(
            Self.reason(source.lookup(profile: "dev"))
                == "profile dev has no valid credentials (state needs_mfa: needs an MFA code; run `credd login mfa`)")

        await source.apply([.published(profile: "dev", credentials: Self.credentials)])
        guard case .available(let published) = source.lookup(profile: "dev") else {
            Issue.record("published credentials must be served")
            return
        }
        #expect(published.expiration == Self.credentials.expiration)
        let container = try #require(published.servableResponses(at: Self.now)?.container.body)
        #expect(container.contains("\"AccessKeyId\":\"ASIAENGINESOURCEEXAMPLE\""))
        #expect(container.contains("\"RoleArn\":\"arn:aws:iam::222222222222:role/Developer\",\"AccountId\":\"222222222222\""))

        await source.apply([.withdrawn(profile: "dev", reason: .expired)])
        #expect(Self.reason(source.lookup(profile: "dev")) != nil)
    }
}
