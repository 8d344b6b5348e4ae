import FoundationEssentials

/// The environment that points AWS SDKs at the endpoint's container API for one profile:
/// what `credd env PROFILE` prints and what `credd exec PROFILE -- CMD` runs CMD with.
public enum ShellEnvironment {
    /// Where the endpoint listens, as clients should address it.
    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int

        public init(host: String = "127.0.0.1", port: Int) {
            self.host = host
            self.port = port
        }

        /// `http://127.0.0.1:9911`, with IPv6 hosts bracketed.
        public var baseURL: String {
            host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }
    }

    /// Variables that would take precedence over the container provider or contradict it (SDKs
    /// differ in which of RELATIVE/FULL URI and TOKEN/TOKEN_FILE wins, so only one of each may be set).
    public static let conflictingVariables: [String] = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    ]

    /// The container-API URL for `profile`, its name percent-encoded.
    public static func credentialsURL(profile: String, endpoint: Endpoint) -> String {
        endpoint.baseURL + EndpointRouter.containerPrefix + percentEncoded(profile)
    }

    /// The variables to set, in the order they are printed.
    public static func variables(profile: String, endpoint: Endpoint, tokenFile: String, region: String?) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = [
            (name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: credentialsURL(profile: profile, endpoint: endpoint)),
            (name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: tokenFile),
        ]
        if let region, !region.isEmpty {
            variables.append((name: "AWS_REGION", value: region))
            variables.append((name: "AWS_DEFAULT_REGION", value: region))
        }
        return variables
    }

    /// Shell lines for `eval "$(credd env PROFILE)"` in bash, zsh and other POSIX shells: one
    /// `unset` of the conflicting variables, then an `export` per variable, values single-quoted.
    public static func exportLines(profile: String, endpoint: Endpoint, tokenFile: String, region: String?) -> String {
        var lines = ["unset " + conflictingVariables.joined(separator: " ")]
        for variable in variables(profile: profile, endpoint: endpoint, tokenFile: tokenFile, region: region) {
            lines.append("export \(variable.name)=\(singleQuoted(variable.value))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `environment` with the conflicting variables removed and the endpoint's set, for `credd exec`.
    public static func applying(
        profile: String,
        endpoint: Endpoint,
        tokenFile: String,
        region: String?,
        to environment: [String: String]
    ) -> [String: String] {
        var result = environment
        for name in conflictingVariables {
            result[name] = nil
        }
        for variable in variables(profile: profile, endpoint: endpoint, tokenFile: tokenFile, region: region) {
            result[variable.name] = variable.value
        }
        return result
    }

    /// POSIX single quoting: everything literal, each `'` written as `'\''`.
    public static func singleQuoted(_ value: String) -> String {
        "'" + value.replacingEvery("'", with: #"'\''"#) + "'"
    }

    /// RFC 3986 unreserved characters stay; every other byte becomes `%XX`.
    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}
