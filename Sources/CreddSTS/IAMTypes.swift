import CreddCore
import FoundationEssentials

/// Whether IAM accepts an access key for signing.
public enum AccessKeyStatus: String, Sendable, Hashable {
    case active = "Active"
    case inactive = "Inactive"
}

/// One access key of an IAM user as `ListAccessKeys` reports it: never the secret.
public struct AccessKeyMetadata: Sendable, Hashable {
    public let accessKeyId: String
    public let status: AccessKeyStatus
    public let createDate: Date
    public let userName: String

    public init(accessKeyId: String, status: AccessKeyStatus, createDate: Date, userName: String) {
        self.accessKeyId = accessKeyId
        self.status = status
        self.createDate = createDate
        self.userName = userName
    }
}

/// A key `CreateAccessKey` just made. The secret exists only in this response: IAM never shows
/// it again, so it must reach the credentials file or the key is useless.
public struct NewAccessKey: Sendable, Hashable {
    public let metadata: AccessKeyMetadata
    /// Long-term credentials (no token, no expiry); the secret is redacted in every description.
    public let credentials: AWSCredentials
    public let requestId: String?

    public init(metadata: AccessKeyMetadata, credentials: AWSCredentials, requestId: String?) {
        self.metadata = metadata
        self.credentials = credentials
        self.requestId = requestId
    }
}

/// Where IAM requests go and how they are signed.
public struct IAMEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// IAM is a global service: one endpoint, signed as us-east-1.
    public static let global = IAMEndpoint(url: URL(string: "https://iam.amazonaws.com") ?? URL(fileURLWithPath: "/"), signingRegion: "us-east-1")

    public let url: URL
    public let signingRegion: String

    public init(url: URL, signingRegion: String) {
        self.url = url
        self.signingRegion = signingRegion
    }

    /// The endpoint as the AWS SDKs pick it: `AWS_ENDPOINT_URL_IAM`, then `AWS_ENDPOINT_URL`
    /// (both skipped when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), then the global endpoint.
    /// Always signed as us-east-1. A variable that is not an http(s) URL is an error rather than
    /// silently ignored: the user meant to point credd somewhere else.
    public static func resolve(environment: [String: String]) throws(AWSQueryError) -> IAMEndpoint {
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true" { return global }
        for name in ["AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"] {
            guard let value = environment[name]?.trimmingWhitespace(), !value.isEmpty else { continue }
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty
            else {
                throw AWSQueryError(
                    service: IAMClient.service.displayName, action: "endpoint resolution", kind: .invalidParameter, code: nil,
                    message: "\(name) '\(value)' is not an http:// or https:// URL; fix or unset it", requestId: nil,
                    httpStatus: nil, attempts: 0, disposition: .needsChange)
            }
            return IAMEndpoint(url: url, signingRegion: global.signingRegion)
        }
        return global
    }

    public var description: String { "\(url.absoluteString) (signing region \(signingRegion))" }
}
