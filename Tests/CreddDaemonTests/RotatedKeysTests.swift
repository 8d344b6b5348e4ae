import CreddConfig
import CreddCore
import CreddRefresh
import Foundation
import Testing

@testable import CreddDaemon

/// Keys scheduled rotation writes do not renew profiles at once; keys edited in by hand do.
@Suite struct RotatedKeysTests {
    /// Example-shaped key ids; no real key.
    enum F {
        static let oldId = "AKIAEXAMPLEOLD000001"
        static let newId = "AKIAEXAMPLENEW000002"
        static let strayId = "AKIAEXAMPLESTRAY0003"
        static let secret = "ROTATIONsecret/never+print/0123456789abcd"
        static let endpoint = STSEndpoint(url: URL(fileURLWithPath: "/"), signingRegion: "us-east-1")
        static let ninetyDays = RotationInterval(seconds: 90 * 86_400)
    }

    static func profile(keyId: String, secret: String = F.secret) -> ManagedProfile {
        ManagedProfile(
            name: "mfa", kind: .sessionToken,
            source: .staticKeys(AWSCredentials(accessKeyId: keyId, secretAccessKey: Secret(secret)), origin: SourceLocation(file: "/c", line: 2)),
            mfaSerial: nil, mfaProcess: nil, durationSeconds: nil, region: nil, stsEndpoint: F.endpoint, writeCredentials: true,
            credentialsSection: "mfa", location: SourceLocation(file: "/config", line: 1), sourceChain: ["mfa", "alice"],
            rotateAfter: F.ninetyDays)
    }

    static func fingerprint(_ profile: ManagedProfile, _ keys: RotatedKeys) -> ConfigurationFingerprint? {
        ProfileSpecs.make([profile], rotatedKeys: keys).first?.fingerprint
    }

    @Test func rotatedKeysKeepTheFingerprintEditedKeysChangeIt() {
        let before = Self.profile(keyId: F.oldId)
        let original = Self.fingerprint(before, RotatedKeys())
        var keys = RotatedKeys()
        keys.begin(section: "alice", in: [before])
        #expect(Self.fingerprint(Self.profile(keyId: F.newId, secret: "new"), keys) == original, "re-read mid-rotation")
        keys.finish(section: "alice", fileHolds: F.newId)
        #expect(Self.fingerprint(Self.profile(keyId: F.newId, secret: "new"), keys) == original)
        #expect(Self.fingerprint(Self.profile(keyId: F.strayId, secret: "edited"), keys) != original, "a hand edit renews")

        // A second rotation still counts from the first key.
        keys.begin(section: "alice", in: [Self.profile(keyId: F.newId, secret: "new")])
        keys.finish(section: "alice", fileHolds: F.strayId)
        #expect(Self.fingerprint(Self.profile(keyId: F.strayId, secret: "newer"), keys) == original)
    }
}
