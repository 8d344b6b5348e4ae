import CreddCore
import FoundationEssentials

/// The environment that points AWS SDKs at the endpoint's container API for one profile:
/// what `credd env PROFILE` prints and what `credd exec PROFILE` runs its command with.
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

    /// What one profile's environment is made of.
    public struct Settings: Sendable {
        public var profile: String
        public var endpoint: Endpoint
        public var tokenFile: String
        /// The container token itself, for SDKs older than late 2023 that do not read the file.
        public var token: Secret
        public var region: String?

        public init(profile: String, endpoint: Endpoint, tokenFile: String, token: Secret, region: String?) {
            self.profile = profile
            self.endpoint = endpoint
            self.tokenFile = tokenFile
            self.token = token
            self.region = region
        }
    }

    /// The syntax `credd env` prints.
    public enum Shell: String, Sendable, CaseIterable {
        case bash, zsh, fish, sh

        /// The shell named by `$SHELL` (`/usr/bin/fish` → fish); POSIX sh syntax for anything else.
        public static func detected(fromShellVariable value: String?) -> Shell {
            let name = value?.split(separator: "/").last.map(String.init) ?? ""
            return Shell(rawValue: name) ?? .sh
        }
    }

    /// The names the last `credd env` or `credd exec` set, space-separated, so that the next one
    /// (or `credd env --unset`) can unset exactly those: `AWS_REGION` of another profile included.
    public static let markerVariable = "CREDD_ENV_SET"
    /// The profile of a shell or command started by `credd exec`; a nested `credd exec` warns.
    public static let execProfileVariable = "CREDD_PROFILE"

    /// Variables that would take precedence over the container provider or contradict it.
    public static let conflictingVariables: [String] = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    ]

    /// Every variable credd itself may set, whatever the profile.
    private static let ownVariables = [
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_REGION", "AWS_DEFAULT_REGION",
    ]

    /// The container-API URL for `profile`, its name percent-encoded.
    public static func credentialsURL(profile: String, endpoint: Endpoint) -> String {
        endpoint.baseURL + EndpointRouter.containerPrefix + percentEncoded(profile)
    }

    /// The variables to set, in the order they are printed. Both the token file and the token:
    /// SDKs that know the file prefer it, and older ones read only the token, which stays valid
    /// because the daemon keeps it across restarts.
    public static func variables(_ settings: Settings) -> [(name: String, value: String)] {
        var variables: [(name: String, value: String)] = [
            (name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: credentialsURL(profile: settings.profile, endpoint: settings.endpoint)),
            (name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: settings.tokenFile),
            (name: "AWS_CONTAINER_AUTHORIZATION_TOKEN", value: settings.token.revealed),
        ]
        if let region = settings.region, !region.isEmpty {
            variables.append((name: "AWS_REGION", value: region))
            variables.append((name: "AWS_DEFAULT_REGION", value: region))
        }
        variables.append((name: markerVariable, value: variables.map(\.name).joined(separator: " ")))
        return variables
    }

    /// The names a previous `credd env` recorded in `marker`. Only `AWS_` names count, so a
    /// marker edited by hand can never make credd unset `PATH` or `HOME`.
    public static func previouslySet(_ marker: String?) -> [String] {
        (marker ?? "").split(separator: " ").map(String.init).filter { name in
            name.hasPrefix("AWS_")
                && name.utf8.allSatisfy {
                    $0 == UInt8(ascii: "_") || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                }
        }
    }

    /// The lines for `eval "$(credd env PROFILE)"`: first unset the conflicting variables and
    /// whatever the previous `credd env` set (named by `previousMarker`), then set this profile's.
    public static func exportLines(_ settings: Settings, previousMarker: String?, shell: Shell) -> String {
        let unset = unique(conflictingVariables + previouslySet(previousMarker))
        return script(unset: unset, set: variables(settings), shell: shell)
    }

    /// The lines for `eval "$(credd env --unset)"`: everything credd sets, and the marker.
    public static func unsetLines(previousMarker: String?, shell: Shell) -> String {
        let unset = unique(conflictingVariables + ownVariables + previouslySet(previousMarker) + [markerVariable])
        return script(unset: unset, set: [], shell: shell)
    }

    /// `environment` with the conflicting variables and those of a previous `credd env` removed
    /// and the profile's set, for `credd exec`; `CREDD_PROFILE` marks it.
    public static func applying(_ settings: Settings, to environment: [String: String]) -> [String: String] {
        var result = environment
        for name in conflictingVariables + previouslySet(environment[markerVariable]) {
            result[name] = nil
        }
        for variable in variables(settings) {
            result[variable.name] = variable.value
        }
        result[execProfileVariable] = settings.profile
        return result
    }

    private static func script(unset: [String], set: [(name: String, value: String)], shell: Shell) -> String {
        var lines: [String]
        switch shell {
        case .bash, .zsh, .sh:
            lines = ["unset " + unset.joined(separator: " ")]
            lines += set.map { "export \($0.name)=\(singleQuoted($0.value))" }
        case .fish:
            // Erasing an unset variable is silent but leaves status 4, which `set -gx` keeps: the
            // closing `true` lets `credd env dev | source; and CMD` run CMD.
            lines = unset.map { "set -e \($0)" }
            lines += set.map { "set -gx \($0.name) \(fishQuoted($0.value))" }
            lines.append("true")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// POSIX single quoting: everything literal, each `'` written as `'\''`.
    public static func singleQuoted(_ value: String) -> String {
        "'" + value.replacingEvery("'", with: #"'\''"#) + "'"
    }

    /// fish single quoting: everything literal but `\\` and `\'`.
    public static func fishQuoted(_ value: String) -> String {
        "'" + value.replacingEvery(#"\"#, with: #"\\"#).replacingEvery("'", with: #"\'"#) + "'"
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
