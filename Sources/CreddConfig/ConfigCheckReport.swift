import CreddCore

/// What `credd check` prints: the resolved settings and profiles, then every error. Pure, and
/// free of secrets by construction: static keys appear only as the last four characters of
/// the access key id, and external ids only as "set".
public enum ConfigCheckReport {
    /// The report for `configuration`, one line per fact, ending with a newline. Each error
    /// is a root cause; profiles that only wait for a broken one are listed apart, one line each.
    public static func render(_ configuration: LoadedConfiguration, warnings: [ConfigWarning] = []) -> String {
        let settings = configuration.settings
        let listenHost = settings.listenHost.contains(":") ? "[\(settings.listenHost)]" : settings.listenHost
        var lines = [
            "config:           \(settings.configFile)",
            "listen:           \(listenHost):\(settings.listenPort)",
            "imds profile:     \(settings.imdsProfile ?? "none")",
            "credentials file: \(settings.credentialsFile)",
            "aws config file:  \(settings.awsConfigFile)",
            "",
        ]
        let count = configuration.profiles.count
        lines.append(count == 1 ? "1 profile:" : "\(count) profiles:")
        for profile in configuration.profiles {
            lines.append("")
            lines.append("[profile \(profile.name)]  (\(profile.location))")
            lines += describe(profile, in: configuration).map { "  \($0.label.padding(to: 10)) \($0.value)" }
        }
        lines.append("")
        let causes = configuration.errors.filter { $0.waitsOn == nil }
        let waiting = configuration.errors.filter { $0.waitsOn != nil }
        if causes.isEmpty && waiting.isEmpty {
            lines.append("no errors")
        } else {
            lines.append(causes.count == 1 ? "1 error:" : "\(causes.count) errors:")
            lines += causes.map { "  \($0)" }
        }
        if !waiting.isEmpty {
            lines.append(waiting.count == 1 ? "1 profile waits for them:" : "\(waiting.count) profiles wait for them:")
            lines += waiting.map { "  \($0)" }
        }
        if !warnings.isEmpty {
            lines.append("")
            lines.append(warnings.count == 1 ? "1 warning:" : "\(warnings.count) warnings:")
            lines += warnings.map { "  \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ profile: ManagedProfile, in configuration: LoadedConfiguration) -> [(label: String, value: String)] {
        var rows: [(String, String)] = []
        switch profile.kind {
        case .sessionToken:
            rows.append(("kind:", "GetSessionToken"))
        case let .assumeRole(roleArn, externalId, roleSessionName):
            var details: [String] = []
            if let roleSessionName { details.append("session name \(roleSessionName)") }
            if externalId != nil { details.append("external id set") }
            rows.append(("kind:", "AssumeRole \(roleArn)" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")))
        case let .sso(accountId, roleName):
            rows.append(("kind:", "IAM Identity Center role \(roleName) in account \(accountId) (GetRoleCredentials)"))
        }
        let root: String
        switch profile.source {
        case .managed:
            root = "session"
        case let .staticKeys(credentials, origin):
            let suffix = String(credentials.accessKeyId.suffix(4))
            root = "static keys …\(suffix)\(credentials.sessionToken == nil ? "" : " with session token") at \(origin)"
        case .secretService:
            root = "keys in the Secret Service"
        case let .credentialProcess(_, origin):
            root = "credential_process at \(origin)"
        case let .ssoSession(session):
            root = session.name.map { "sso-session \($0) at \(session.location)" } ?? "legacy sso_start_url at \(session.location)"
        }
        rows += roleOptionRows(profile.roleOptions)
        rows.append(("source:", profile.sourceChain.joined(separator: " ← ") + " (\(root))"))
        if let session = profile.ssoSession {
            rows.append(
                (
                    "sso:",
                    "\(session.startURL) in \(session.region)"
                        + (session.registrationScopes.isEmpty ? "" : ", scopes \(session.registrationScopes.joined(separator: ","))")
                ))
            if let limitation = session.limitation { rows.append(("limits:", limitation)) }
            if let shadows = session.shadows {
                rows.append(("note:", "credd's [sso-session \(session.name ?? "")] hides the one of the same name at \(shadows)"))
            }
            rows.append(("output:", profile.writeCredentials ? "[\(profile.credentialsSection)] in the credentials file" : "endpoint only"))
            return rows
        }
        rows.append(("sts:", profile.stsEndpoint.description + (profile.stsEndpoint.reason.map { ", \($0)" } ?? "")))
        rows.append(("region:", profile.region ?? "none (from the environment, else global STS)"))
        rows.append(("duration:", profile.durationSeconds.map { "\(ConfigDuration.describe(seconds: $0)) (\($0) s)" } ?? "STS default"))
        rows.append(("output:", profile.writeCredentials ? "[\(profile.credentialsSection)] in the credentials file" : "endpoint only"))
        let mfa: String
        if let serial = profile.mfaSerial {
            mfa = profile.mfaProcess == nil ? "\(serial), code via `credd login \(profile.name)`" : "\(serial), code from mfa_process"
        } else {
            mfa = "none"
        }
        rows.append(("mfa:", mfa))
        if let rotation = rotation(of: profile, in: configuration) { rows.append(("rotation:", rotation)) }
        return rows
    }

    /// AssumeRole's optional settings, one row each that is set.
    private static func roleOptionRows(_ options: AssumeRoleOptions) -> [(label: String, value: String)] {
        var rows: [(String, String)] = []
        if let identity = options.sourceIdentity { rows.append(("source id:", identity)) }
        if !options.tags.isEmpty {
            let transitive = options.transitiveTagKeys.isEmpty ? "" : " (transitive: \(options.transitiveTagKeys.joined(separator: ", ")))"
            rows.append(("tags:", options.tags.map(\.description).joined(separator: ", ") + transitive))
        }
        var policies = options.policyArns
        if let policy = options.policy { policies.append("inline from \(policy.file) (\(policy.document.count) characters)") }
        if !policies.isEmpty { rows.append(("policies:", policies.joined(separator: ", "))) }
        return rows
    }

    /// "[alice] in FILE" (the file only when `withFile`) / "alice in the keyring".
    private static func keys(_ location: KeyLocation, at withFile: Bool) -> String {
        switch location {
        case let .credentialsFile(path, section): withFile ? "[\(section)] in \(path)" : "[\(section)]"
        case let .keyring(profile): "\(profile) in the keyring"
        }
    }

    /// Scheduled key rotation: what `rotate_after` does here, or where it would go. Only the
    /// profiles that set it, or whose own source is keys credd could rotate, get a row.
    private static func rotation(of profile: ManagedProfile, in configuration: LoadedConfiguration) -> String? {
        let target = RotationTarget.resolve(profile.name, in: configuration)
        guard let interval = profile.rotateAfter else {
            guard case let .success(target) = target, profile.sourceChain.count == 2 else { return nil }
            return "off (rotate_after = 90d in this profile rotates the keys of \(keys(target.location, at: false)))"
        }
        switch target {
        case let .success(target):
            return "the keys of \(keys(target.location, at: true)) are replaced once \(interval) old (rotate_after)"
        case let .failure(unavailable):
            return "unavailable: \(unavailable.reason)"
        }
    }
}
