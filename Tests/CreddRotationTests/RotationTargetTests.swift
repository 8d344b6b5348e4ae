import CreddConfig
import CreddCore
import Foundation
import Testing

@testable import CreddRotation

@Suite struct RotationTargetTests {
    static let credentialsFile = "/home/alice/.aws/credentials"
    static let awsConfig = "/home/alice/.aws/config"
    static let endpoint = STSEndpoint(url: URL(fileURLWithPath: "/"), signingRegion: "us-east-1")

    static func profile(_ name: String, source: ManagedProfile.Source, chain: [String], mfa: String? = nil, role: String? = nil) -> ManagedProfile {
        ManagedProfile(
            name: name, kind: role.map { .assumeRole(roleArn: $0, externalId: nil, roleSessionName: nil) } ?? .sessionToken,
            source: source, mfaSerial: mfa, mfaProcess: nil, durationSeconds: nil, region: nil, stsEndpoint: endpoint,
            writeCredentials: true, credentialsSection: name, location: SourceLocation(file: "/home/alice/.config/credd/config", line: 1),
            sourceChain: chain)
    }

    static let configuration = LoadedConfiguration(
        settings: DaemonSettings(
            listenHost: "127.0.0.1", listenPort: 9911, imdsProfile: nil, credentialsFile: credentialsFile, awsConfigFile: awsConfig,
            configFile: "/home/alice/.config/credd/config"),
        profiles: [
            profile(
                "mfa", source: .staticKeys(Keys.old, origin: SourceLocation(file: credentialsFile, line: 3)), chain: ["mfa", "alice"],
                mfa: "arn:aws:iam::111111111111:mfa/alice"),
            profile("dev", source: .managed("mfa"), chain: ["dev", "mfa", "alice"], role: "arn:aws:iam::222222222222:role/Developer"),
            profile("ci", source: .credentialProcess("pass show aws", origin: SourceLocation(file: awsConfig, line: 9)), chain: ["ci", "vault"]),
            profile("legacy", source: .staticKeys(Keys.old, origin: SourceLocation(file: awsConfig, line: 12)), chain: ["legacy", "old-keys"]),
        ],
        errors: [], watchedFiles: [])

    @Test(arguments: ["mfa", "dev", "alice"])
    func findsTheCredentialsFileSection(name: String) throws {
        let target = try RotationTarget.resolve(name, in: Self.configuration).get()
        let mfa = try #require(Self.configuration.profile(named: "mfa"))
        #expect(
            target
                == RotationTarget(
                    location: .credentialsFile(path: Self.credentialsFile, section: "alice"), accessKeyId: Keys.oldId, mfaSessionProfiles: ["mfa"],
                    stsEndpoint: mfa.stsEndpoint))
    }

    @Test(arguments: [
        ("ci", "credential_process"), ("vault", "credential_process"), ("legacy", "credd rewrites keys only in"),
        ("nobody", "no profile credd manages"),
    ])
    func explainsWhyRotationIsUnavailable(name: String, phrase: String) {
        guard case let .failure(unavailable) = RotationTarget.resolve(name, in: Self.configuration) else {
            Issue.record("\(name) should not be rotatable")
            return
        }
        #expect(unavailable.description.contains(phrase))
        #expect(unavailable.description.contains("'\(name)'"))
        Keys.expectNoSecrets(unavailable.description)
    }
}
