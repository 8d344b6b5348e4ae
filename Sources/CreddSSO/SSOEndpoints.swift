/// Where the OIDC and portal APIs of a region are, with the overrides the SDKs read.
public struct SSOEndpoints: Sendable, Hashable {
    /// The sso-oidc base URL (RegisterClient, StartDeviceAuthorization, CreateToken, /authorize).
    public let oidc: String
    /// The portal base URL (GetRoleCredentials, ListAccounts, ListAccountRoles).
    public let portal: String

    public init(oidc: String, portal: String) {
        self.oidc = Self.trimmingSlash(oidc)
        self.portal = Self.trimmingSlash(portal)
    }

    /// `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO` when set, as botocore reads them;
    /// otherwise the region's public endpoints.
    public init(region: String, environment: [String: String]) {
        let oidc = environment["AWS_ENDPOINT_URL_SSO_OIDC"].flatMap { $0.isEmpty ? nil : $0 }
        let portal = environment["AWS_ENDPOINT_URL_SSO"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            oidc: oidc ?? "https://oidc.\(region).amazonaws.com",
            portal: portal ?? "https://portal.sso.\(region).amazonaws.com")
    }

    private static func trimmingSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
