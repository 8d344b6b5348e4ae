import FoundationEssentials

/// Resolves the STS endpoint as the AWS SDKs do, from the environment and the profile:
///
/// 1. `AWS_ENDPOINT_URL_STS`, 2. `AWS_ENDPOINT_URL`, 3. the profile's `endpoint_url` in credd's
///    config (skipped, like 1 and 2, when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`);
/// 4. with a known region (the profile's `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`),
///    the region's endpoint in its partition (`https://sts.{region}.{dnsSuffix}`), except that
///    `sts_regional_endpoints = legacy` (`AWS_STS_REGIONAL_ENDPOINTS` first, as in botocore) sends
///    the regions that had no regional endpoint of their own before 2019 to the global one;
/// 5. the global `https://sts.amazonaws.com`, signed as `us-east-1`.
///
/// A custom URL is signed with the known region, else `us-east-1`. The `endpoint_url` of an
/// `~/.aws/config` profile is not consulted: that profile is the one credd's output feeds, not
/// the one credd runs.
struct STSEndpointResolver: Sendable {
    static let globalURL = "https://sts.amazonaws.com"
    static let globalSigningRegion = "us-east-1"
    static let regionalEndpointsVariable = "AWS_STS_REGIONAL_ENDPOINTS"

    /// `sts_regional_endpoints`: botocore's default has been `regional` since 1.40 (2025).
    enum RegionalEndpoints: String, Sendable, CaseIterable {
        case regional, legacy
    }

    /// The regions `legacy` sends to the global endpoint (botocore's `LEGACY_GLOBAL_STS_REGIONS`).
    static let legacyGlobalRegions: Set<String> = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1", "eu-central-1",
        "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ]

    let environmentURL: URL?
    let environmentRegion: String?
    let environmentRegionalEndpoints: RegionalEndpoints?
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
                errors.append(
                    ConfigError(
                        file: "environment", key: name, message: "\(ConfigValues.quoted(value)) is not a region name such as eu-west-1; ignoring it"))
            }
        }
        environmentRegion = region
        var mode: RegionalEndpoints?
        if let value = nonEmpty(Self.regionalEndpointsVariable) {
            mode = RegionalEndpoints(rawValue: value.lowercased())
            if mode == nil {
                errors.append(
                    ConfigError(
                        file: "environment", key: Self.regionalEndpointsVariable,
                        message: "\(ConfigValues.quoted(value)) is not valid: expected regional or legacy; ignoring it"))
            }
        }
        environmentRegionalEndpoints = mode
    }

    func resolve(profileURL: URL?, profileRegion: String?, profileRegionalEndpoints: RegionalEndpoints? = nil) -> STSEndpoint {
        let region = profileRegion ?? environmentRegion
        if let custom = environmentURL {
            return STSEndpoint(
                url: custom, signingRegion: region ?? Self.globalSigningRegion, reason: "from AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL")
        }
        if !ignoreConfiguredURLs, let custom = profileURL {
            return STSEndpoint(url: custom, signingRegion: region ?? Self.globalSigningRegion, reason: "from endpoint_url")
        }
        guard let region else { return Self.global(reason: "global endpoint: no region is set") }
        let mode = environmentRegionalEndpoints ?? profileRegionalEndpoints ?? .regional
        if mode == .legacy, Self.legacyGlobalRegions.contains(region) {
            let from = environmentRegionalEndpoints == nil ? "sts_regional_endpoints" : Self.regionalEndpointsVariable
            return Self.global(reason: "global endpoint: \(from) = legacy")
        }
        let partition = STSPartition(region: region)
        guard let url = URL(string: "https://sts.\(region).\(partition.dnsSuffix)") else { return Self.global(reason: "global endpoint") }
        return STSEndpoint(url: url, signingRegion: region, reason: "regional endpoint, partition \(partition.name)", partition: partition.name)
    }

    private static func global(reason: String) -> STSEndpoint {
        // A literal that always parses; the fallback keeps this free of force unwraps.
        let url = URL(string: Self.globalURL) ?? URL(fileURLWithPath: "/")
        return STSEndpoint(url: url, signingRegion: Self.globalSigningRegion, reason: reason, partition: STSPartition.standard.name)
    }
}

/// The AWS partition a region belongs to, and the DNS suffix of its endpoints, as the SDKs'
/// partition tables give them. A region of no known partition is taken to be in `aws`, as the
/// SDKs take it.
struct STSPartition: Sendable, Hashable {
    let name: String
    let dnsSuffix: String

    /// Checked in order: the first prefix that matches wins (`us-gov-` before `us-`).
    private static let byRegionPrefix: [(prefix: String, partition: STSPartition)] = [
        ("cn-", STSPartition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn")),
        ("us-gov-", STSPartition(name: "aws-us-gov", dnsSuffix: "amazonaws.com")),
        ("us-iso-", STSPartition(name: "aws-iso", dnsSuffix: "c2s.ic.gov")),
        ("us-isob-", STSPartition(name: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov")),
        ("us-isof-", STSPartition(name: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov")),
        ("eu-isoe-", STSPartition(name: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk")),
        ("eusc-", STSPartition(name: "aws-eusc", dnsSuffix: "amazonaws.eu")),
    ]
    static let standard = STSPartition(name: "aws", dnsSuffix: "amazonaws.com")

    init(region: String) {
        self = Self.byRegionPrefix.first { region.hasPrefix($0.prefix) }?.partition ?? Self.standard
    }

    private init(name: String, dnsSuffix: String) {
        self.name = name
        self.dnsSuffix = dnsSuffix
    }
}
