import CreddINI
import FoundationEssentials

/// A `[profile NAME]` section of credd's config with every value validated on its own;
/// relations between profiles are `ProfileResolver`'s job.
struct ProfileDefinition: Sendable {
    /// A value and the line it came from, for messages.
    struct Located<Value: Sendable>: Sendable {
        let value: Value
        let line: Int
    }

    /// The IAM Identity Center keys of a profile that signs in with an sso-session (or the legacy
    /// form with the start URL and region on the profile) instead of naming a `source_profile`.
    struct SSOKeys: Sendable {
        let session: Located<String>?
        let startURL: Located<String>?
        let region: Located<String>?
        let accountId: String
        let roleName: String
        /// The first `sso_*` line, for messages.
        let line: Int
    }

    let name: String
    let location: SourceLocation
    /// `nil` exactly when `sso` is set.
    let sourceProfile: Located<String>?
    let sso: SSOKeys?
    let roleArn: Located<String>?
    let externalId: String?
    let roleSessionName: String?
    let mfaSerial: String?
    let mfaProcess: String?
    let durationSeconds: Located<Int>?
    let region: String?
    let endpointURL: URL?
    let writeCredentials: Bool
    let credentialsSection: Located<String>
    let rotateAfter: RotationInterval?
    let regionalEndpoints: STSEndpointResolver.RegionalEndpoints?
    let roleOptions: AssumeRoleOptions

    /// AssumeRole's optional settings (aws-vault's names, and credd's policy keys).
    static let roleOptionKeys = ["source_identity", "session_tags", "transitive_session_tags", "policy_arns", "policy_file"]

    /// AWS keys credd honours, and credd's own.
    static let supportedKeys: [String] =
        [
            "source_profile", "role_arn", "mfa_serial", "external_id", "role_session_name", "duration_seconds",
            "region", "endpoint_url", "sts_regional_endpoints", "mfa_process", "write_credentials", "credentials_section",
            "rotate_after", "sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name",
        ] + roleOptionKeys

    static let ssoKeys: Set<String> = ["sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name"]
    /// Keys that mean nothing for a profile whose credentials come from GetRoleCredentials.
    static let stsOnlyKeys = [
        "role_arn", "mfa_serial", "mfa_process", "external_id", "role_session_name", "duration_seconds", "endpoint_url", "rotate_after",
        "sts_regional_endpoints",
    ]

    /// AWS keys that mean something elsewhere but not in a credd profile, with what to do instead.
    static let unsupportedKeys: [String: String] = {
        let keysElsewhere = "credd does not store long-term keys: keep them in ~/.aws/credentials and name that profile in source_profile"
        return [
            "aws_access_key_id": keysElsewhere, "aws_secret_access_key": keysElsewhere,
            "aws_session_token": keysElsewhere, "aws_security_token": keysElsewhere,
            "credential_process": "put credential_process in a profile of ~/.aws/config and name that profile in source_profile",
            "credential_source": "credential_source (Environment, Ec2InstanceMetadata, EcsContainer) is not supported; use source_profile",
            "web_identity_token_file": "web identity sources are not supported yet; use source_profile",
            "sso_registration_scopes": "sso_registration_scopes belongs in the [sso-session NAME] section the profile's sso_session names",
            "services": "[services] sections are not read by credd; set endpoint_url in the profile",
        ]
    }()

    /// Validates `section` (already known to be `[profile name]`); returns the definition, or
    /// every problem found so the user can fix them in one go.
    enum Parsed {
        case valid(ProfileDefinition)
        case invalid([ConfigError])
    }

    /// Where `policy_file = value` points: `~/` is the home directory, and a relative path is
    /// relative to the config file's directory.
    static func policyPath(_ value: String, configFile: String, home: String?) -> String {
        let resolved = ConfigLoader.expandingHome(value, home: home)
        return resolved.hasPrefix("/") ? resolved : ConfigLoader.directory(of: configFile) + "/" + resolved
    }

    /// `policy_file` is read through `reader` (see `policyPath`).
    static func parse(section: INISection, name: String, file: String, reader: some FileReading, home: String?) -> Parsed {
        var errors: [ConfigError] = []
        func fail(_ entry: INISection.Entry?, key: String?, _ message: String) {
            let hint = entry.map { ConfigValues.inlineCommentHint($0.value) } ?? ""
            errors.append(
                ConfigError(file: file, line: entry?.lineNumber ?? section.headerLineNumber, profile: name, key: key, message: message + hint))
        }
        if !ConfigValues.isProfileName(name) {
            fail(nil, key: nil, "profile names may contain only letters, digits and _ - / . % @")
        }

        var values: [String: INISection.Entry] = [:]
        for entry in section.entries {
            if let hint = unsupportedKeys[entry.key] {
                fail(entry, key: entry.key, "not supported in a credd profile: \(hint)")
            } else if !supportedKeys.contains(entry.key) {
                let suggestion = ConfigValues.suggestion(for: entry.key, among: supportedKeys).map { "; did you mean '\($0)'?" } ?? ""
                fail(entry, key: entry.key, "unknown key\(suggestion)")
            } else if !entry.continuation.isEmpty {
                fail(entry, key: entry.key, "a nested block (indented lines) is not allowed here")
            } else if entry.value.isEmpty {
                fail(entry, key: entry.key, "has no value; set one or remove the line")
            } else {
                values[entry.key] = entry
            }
        }

        func checked(_ key: String, _ isValid: (String) -> Bool, _ expectation: String) -> INISection.Entry? {
            guard let entry = values[key] else { return nil }
            guard isValid(entry.value) else {
                fail(entry, key: key, "\(ConfigValues.quoted(entry.value)) is not valid: expected \(expectation)")
                return nil
            }
            return entry
        }

        let sourceProfile = values["source_profile"]
        let ssoEntries = section.entries.filter { ssoKeys.contains($0.key) }
        var sso: SSOKeys?
        if let first = ssoEntries.first {
            sso = parseSSO(values, firstLine: first.lineNumber, fail: fail)
            if let sourceProfile {
                fail(
                    sourceProfile, key: "source_profile",
                    "a profile either signs in with IAM Identity Center (sso_* keys) or names a source_profile, not both; to assume a role with this profile's SSO credentials, write a second profile with source_profile = \(name) and role_arn"
                )
            }
            for key in stsOnlyKeys {
                if let entry = values[key] {
                    fail(
                        entry, key: key,
                        "does not apply to an IAM Identity Center profile, whose credentials come from GetRoleCredentials; to assume a role with them, write a second profile with source_profile = \(name) and role_arn"
                    )
                }
            }
        } else if sourceProfile == nil, !errors.contains(where: { $0.key == "source_profile" }) {
            fail(
                nil, key: "source_profile",
                "missing: name the profile whose credentials call STS (long-term keys in ~/.aws/credentials, a credential_process profile, or another credd profile), or sign in with IAM Identity Center (sso_session, sso_account_id, sso_role_name)"
            )
        }
        let roleArn = checked("role_arn", ConfigValues.isRoleARN, "arn:aws:iam::123456789012:role/NAME")
        let isAssumeRole = values["role_arn"] != nil
        let mfaSerial = checked(
            "mfa_serial", ConfigValues.isMFASerial, "arn:aws:iam::123456789012:mfa/NAME or a hardware token serial such as GAHT12345678")
        // The external id is shared with a third party; only its shape is echoed back.
        let externalId = values["external_id"].flatMap { entry -> INISection.Entry? in
            guard ConfigValues.isExternalId(entry.value) else {
                fail(entry, key: "external_id", "expected 2 to 1224 characters of letters, digits and _ + = , . @ : / -")
                return nil
            }
            return entry
        }
        let sessionName = checked("role_session_name", ConfigValues.isRoleSessionName, "2 to 64 characters of letters, digits and _ + = , . @ -")
        let region = checked("region", ConfigValues.isRegion, "a region name such as eu-west-1")
        let mfaProcess = values["mfa_process"]

        if !isAssumeRole {
            for key in ["external_id", "role_session_name"] + roleOptionKeys {
                if let entry = values[key] { fail(entry, key: key, "only applies with role_arn (this profile calls GetSessionToken)") }
            }
        }
        if let mfaProcess, values["mfa_serial"] == nil {
            fail(mfaProcess, key: "mfa_process", "needs mfa_serial: the MFA device the code is for")
        }

        var duration: Located<Int>?
        if let entry = values["duration_seconds"] {
            let range = isAssumeRole ? 900...43200 : 900...129_600
            let call = isAssumeRole ? "AssumeRole" : "GetSessionToken"
            let limits =
                "\(call) accepts \(range.lowerBound) to \(range.upperBound) seconds (\(ConfigDuration.describe(seconds: range.lowerBound)) to \(ConfigDuration.describe(seconds: range.upperBound)))"
            if let seconds = ConfigDuration.seconds(parsing: entry.value) {
                if range.contains(seconds) {
                    duration = Located(value: seconds, line: entry.lineNumber)
                } else {
                    fail(entry, key: "duration_seconds", "\(ConfigValues.quoted(entry.value)) is out of range: \(limits)")
                }
            } else {
                fail(entry, key: "duration_seconds", "\(ConfigValues.quoted(entry.value)) is not valid: expected \(ConfigDuration.syntax); \(limits)")
            }
        }

        var endpointURL: URL?
        if let entry = values["endpoint_url"] {
            switch ConfigValues.parseEndpointURL(entry.value) {
            case let .success(url): endpointURL = url
            case let .failure(problem): fail(entry, key: "endpoint_url", problem.message)
            }
        }

        var writeCredentials = true
        if let entry = values["write_credentials"] {
            if let flag = ConfigValues.parseBoolean(entry.value) {
                writeCredentials = flag
            } else {
                fail(entry, key: "write_credentials", "\(ConfigValues.quoted(entry.value)) is not a boolean: use true or false")
            }
        }

        var credentialsSection = Located(value: name, line: section.headerLineNumber)
        if let entry = values["credentials_section"] {
            if ConfigValues.isProfileName(entry.value) {
                credentialsSection = Located(value: entry.value, line: entry.lineNumber)
            } else {
                fail(
                    entry, key: "credentials_section",
                    "\(ConfigValues.quoted(entry.value)) is not a usable profile name: letters, digits and _ - / . % @ only")
            }
        }

        // Scheduled rotation of the long-term keys at the root of this profile's source chain.
        var rotateAfter: RotationInterval?
        if let entry = values["rotate_after"] {
            if let interval = RotationInterval(parsing: entry.value) {
                rotateAfter = interval
            } else {
                fail(entry, key: "rotate_after", "\(ConfigValues.quoted(entry.value)) is not valid: expected \(RotationInterval.syntax)")
            }
        }

        var regionalEndpoints: STSEndpointResolver.RegionalEndpoints?
        if let entry = values["sts_regional_endpoints"] {
            regionalEndpoints = STSEndpointResolver.RegionalEndpoints(rawValue: entry.value.lowercased())
            if regionalEndpoints == nil {
                fail(
                    entry, key: "sts_regional_endpoints",
                    "\(ConfigValues.quoted(entry.value)) is not valid: expected regional (the default) or legacy")
            }
        }

        func parsed<Value>(_ key: String, _ parse: (String) -> Result<Value, ValueProblem>) -> Value? {
            guard isAssumeRole, let entry = values[key] else { return nil }
            switch parse(entry.value) {
            case let .success(value): return value
            case let .failure(problem):
                fail(entry, key: key, problem.message)
                return nil
            }
        }
        let sourceIdentity = checked("source_identity", ConfigValues.isRoleSessionName, "2 to 64 characters of letters, digits and _ + = , . @ -")
        let tags = parsed("session_tags", AssumeRoleOptions.parseTags) ?? []
        let transitiveKeys = parsed("transitive_session_tags") { AssumeRoleOptions.parseTransitiveKeys($0, tags: tags) } ?? []
        let policyArns = parsed("policy_arns", AssumeRoleOptions.parsePolicyArns) ?? []
        let policy = parsed("policy_file") { path -> Result<AssumeRoleOptions.Policy, ValueProblem> in
            let absolute = policyPath(path, configFile: file, home: home)
            switch Result(catching: { () throws(FileReadError) in try reader.read(absolute) }) {
            case let .success(.contents(bytes)): return AssumeRoleOptions.parsePolicy(bytes, file: absolute)
            case .success(.missing): return .failure(ValueProblem("\(absolute) does not exist; write the session policy there as JSON"))
            case let .failure(error): return .failure(ValueProblem("cannot read \(absolute): \(error.reason)"))
            }
        }

        guard errors.isEmpty, sourceProfile != nil || sso != nil else { return .invalid(errors) }
        return .valid(
            ProfileDefinition(
                name: name,
                location: SourceLocation(file: file, line: section.headerLineNumber),
                sourceProfile: sourceProfile.map { Located(value: $0.value, line: $0.lineNumber) },
                sso: sso,
                roleArn: roleArn.map { Located(value: $0.value, line: $0.lineNumber) },
                externalId: externalId?.value,
                roleSessionName: sessionName?.value,
                mfaSerial: mfaSerial?.value,
                mfaProcess: mfaProcess?.value,
                durationSeconds: duration,
                region: region?.value,
                endpointURL: endpointURL,
                writeCredentials: writeCredentials,
                credentialsSection: credentialsSection,
                rotateAfter: rotateAfter,
                regionalEndpoints: regionalEndpoints,
                roleOptions: AssumeRoleOptions(
                    sourceIdentity: sourceIdentity?.value, tags: tags, transitiveTagKeys: transitiveKeys, policyArns: policyArns, policy: policy)
            ))
    }

    /// The `sso_*` keys of an Identity Center profile: an account and role, and either an
    /// `sso_session` or the legacy `sso_start_url` and `sso_region`.
    private static func parseSSO(_ values: [String: INISection.Entry], firstLine: Int, fail: (INISection.Entry?, String?, String) -> Void) -> SSOKeys?
    {
        var valid = true
        func located(_ entry: INISection.Entry?) -> Located<String>? { entry.map { Located(value: $0.value, line: $0.lineNumber) } }
        let session = values["sso_session"]
        if let session, !ConfigValues.isProfileName(session.value) {
            fail(session, "sso_session", "\(ConfigValues.quoted(session.value)) is not an sso-session name: letters, digits and _ - / . % @ only")
            valid = false
        }
        let startURL = SSOSessionSection.startURL(values["sso_start_url"], fail: fail)
        let region = SSOSessionSection.region(values["sso_region"], fail: fail)
        if values["sso_start_url"] != nil && startURL == nil || values["sso_region"] != nil && region == nil { valid = false }
        if session == nil {
            for key in ["sso_start_url", "sso_region"] where values[key] == nil {
                fail(
                    nil, key,
                    "missing: name an [sso-session NAME] in sso_session (recommended: its token can be refreshed), or set both sso_start_url and sso_region (legacy form)"
                )
                valid = false
            }
        }
        var accountId: String?
        if let entry = values["sso_account_id"] {
            if ASCIIClass.digits.matchesWhole(entry.value.utf8[...], count: 12...12) {
                accountId = entry.value
            } else {
                fail(entry, "sso_account_id", "\(ConfigValues.quoted(entry.value)) is not valid: expected a 12-digit AWS account id")
            }
        } else {
            fail(nil, "sso_account_id", "missing: the 12-digit account whose role this profile takes (`credd sso profiles SESSION` lists them)")
        }
        var roleName: String?
        if let entry = values["sso_role_name"] {
            if ASCIIClass.arnResource.matchesWhole(entry.value.utf8[...], count: 1...64), !entry.value.contains("/") {
                roleName = entry.value
            } else {
                fail(
                    entry, "sso_role_name",
                    "\(ConfigValues.quoted(entry.value)) is not valid: expected a permission set's role name such as AdministratorAccess")
            }
        } else {
            fail(
                nil, "sso_role_name", "missing: the permission set's role name, such as AdministratorAccess (`credd sso profiles SESSION` lists them)"
            )
        }
        guard valid, let accountId, let roleName else { return nil }
        return SSOKeys(
            session: located(session), startURL: located(values["sso_start_url"]), region: located(values["sso_region"]),
            accountId: accountId, roleName: roleName, line: firstLine)
    }
}
