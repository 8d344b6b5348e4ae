/// How credd files long-term AWS keys in the Secret Service: one item per source profile, with
/// attributes `application=credd`, `credd-profile` and `aws_access_key_id`; the item's secret is
/// the secret access key. `credd keys`, `credd keys import` and the daemon all go through here.
extension SecretService {
    /// Every item credd stores carries these attributes.
    public static let creddAttributes = ["application": "credd"]

    /// The attributes that find the keys of `profile`.
    public static func keyAttributes(profile: String) -> [String: String] {
        creddAttributes.merging(["credd-profile": profile]) { $1 }
    }

    /// The access key id and secret access key stored for `profile`, or `nil` when there are none.
    /// Fails with ``BusError/locked(_:)`` when only a locked collection holds them.
    public func keys(of profile: String) async throws(BusError) -> (accessKeyId: String, secretAccessKey: [UInt8])? {
        let found = try await search(Self.keyAttributes(profile: profile))
        guard let item = found.unlocked.first else {
            if found.locked.isEmpty { return nil }
            throw .locked("the keys of \(profile)")
        }
        guard let accessKeyId = try await attributes(of: item)["aws_access_key_id"], !accessKeyId.isEmpty else {
            throw .malformed("the keyring item of \(profile) has no aws_access_key_id attribute")
        }
        return (accessKeyId, try await secret(of: item))
    }

    /// The profiles whose keys are stored, locked or not (a locked item's attributes are readable).
    public func keyProfiles() async throws(BusError) -> Set<String> {
        let found = try await search(Self.creddAttributes)
        var profiles: Set<String> = []
        for item in found.unlocked + found.locked {
            if let profile = try await attributes(of: item)["credd-profile"] { profiles.insert(profile) }
        }
        return profiles
    }
}
