import CreddConfig
import CreddTestSupport
import Testing

/// A throw-away home whose config has one role profile per entry of `roles` (profile name →
/// role name in account 222222222222), each assumed with alice's long-term keys from
/// `~/.aws/credentials`.
func makeRoleProfilesHome(prefix: String, roles: KeyValuePairs<String, String>) throws -> (TemporaryDirectory, LoadedConfiguration) {
    let home = try TemporaryDirectory(prefix: prefix)
    _ = try home.write(".aws/credentials", "[alice]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = not-a-real-secret\n")
    let config = try home.write(
        "config",
        roles.map { profile, role in
            "[profile \(profile)]\nsource_profile = alice\nrole_arn = arn:aws:iam::222222222222:role/\(role)\n"
        }.joined(separator: "\n"))
    let configuration = try ConfigLoader.load(explicitPath: config, environment: ["HOME": home.path])
    try #require(configuration.profiles.count == roles.count, "\(configuration.errors)")
    return (home, configuration)
}
