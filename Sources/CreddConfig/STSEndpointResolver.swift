import FoundationEssentials

/// Resolves the STS endpoint as the AWS SDKs do, from the environment and the profile:
///
/// 1. `AWS_ENDPOINT_URL_STS`, 2. `AWS_ENDPOINT_URL`, 3. the profile's `endpoint_url` in credd's
///    config (skipped, like 1 and 2, when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`);
/// 4. `https://sts.{region}.amazonaws.com` (`.amazonaws.com.cn` in China) when a region is known
///    (the profile's `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`);
/// 5. the global `https://sts.amazonaws.com`, signed as `us-east-1`.
///
/// A custom URL is signed with the known region, else `us-east-1`. The `endpoint_url` of an
/// `~/.aws/config` profile is not consulted: that profile is the one credd's output feeds, not
/// the one credd runs.
struct STSEndpointResolver: Sendable {
    static let globalURL = "https://sts.amazonaws.com"
    static let globalSigningRegion = "us-east-1"

    let environmentURL: URL?
    let environmentRegion: String?
    let ignoreConfiguredURLs: Bool

    /// Reads the environment once; a malformed variable is reported and then ignored.
    init(environment: [String: String], errors: inout [ConfigError]) {
        func nonEmpty(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        ignoreConfiguredURLs = nonEmpty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
        var url: URL?
        for name in ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"] where url == nil && !ignoreConfiguredURLs {
            guard let value = nonEmpty(name) else { continue }
            switch ConfigValues.parseEndpointURL(value) {
            case let .success(parsed): url = parsed
            case let .failure(problem): errors.append(ConfigError(file: "environment", key: name, message: "\(problem.message); ignoring it"))
            }
        }
        environmentURL = url
        var region: String?
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] where region == nil {
            guard let value = nonEmpty(name) else { continue }
            if ConfigValues.isRegion(value) {
                region = value
            } else {
                errors.append(ConfigError(file: "environment", key: name, message: "\(ConfigValues.quoted(value)) is not a region name such as eu-west-1; ignoring it"))
            }
        }
        environmentRegion = region
    }

    func resolve(profileURL: URL?, profileRegion: String?) -> STSEndpoint {
        let region = profileRegion ?? environmentRegion
        let custom = environmentURL ?? (ignoreConfiguredURLs ? nil : profileURL)
        if let custom {
            return STSEndpoint(url: custom, signingRegion: region ?? Self.globalSigningRegion)
        }
        if let region, let url = URL(string: "https://sts.\(region).\(region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com")") {
            return STSEndpoint(url: url, signingRegion: region)
        }
        // A literal that always parses; the fallback keeps this free of force unwraps.
        let global = URL(string: Self.globalURL) ?? URL(fileURLWithPath: "/")
        return STSEndpoint(url: global, signingRegion: Self.globalSigningRegion)
    }
}
