import CreddCore
import CreddINI

/// Resolves each profile's `source_profile` — through other managed profiles, down to static
/// keys or a `credential_process` in the AWS files — detecting cycles and the combinations AWS
/// rejects. Profiles come out sources first; a failing profile fails alone (and its dependents).
struct ProfileResolver {
    let configFile: String
    let definitions: [String: ProfileDefinition]
    /// Every managed profile name, including those whose definition has errors.
    let managedNames: Set<String>
    let shared: AWSSharedFiles
    /// Credentials sections credd writes, and for which profile.
    let outputSections: [String: String]
    let endpoints: STSEndpointResolver
    let ssoSessions: SSOSessions
    /// Profile names whose long-term keys `credd keys add` stored in the Secret Service.
    let keyringProfiles: Set<String>

    private(set) var ordered: [ManagedProfile] = []
    private(set) var errors: [ConfigError] = []
    private var resolved: [String: ManagedProfile] = [:]
    /// Each failed profile and the profile whose own error is the root cause (itself, a cycle's
    /// reported member, or the broken profile down its source chain).
    private var failed: [String: String] = [:]

    init(
        configFile: String, definitions: [String: ProfileDefinition], managedNames: Set<String>, shared: AWSSharedFiles,
        outputSections: [String: String], endpoints: STSEndpointResolver, ssoSessions: SSOSessions, keyringProfiles: Set<String> = []
    ) {
        self.configFile = configFile
        self.definitions = definitions
        self.managedNames = managedNames
        self.shared = shared
        self.outputSections = outputSections
        self.endpoints = endpoints
        self.ssoSessions = ssoSessions
        self.keyringProfiles = keyringProfiles
    }

    /// Resolves `names` (in file order) and everything they depend on.
    mutating func resolveAll(_ names: [String]) {
        for name in names { _ = resolve(name, visiting: []) }
    }

    private mutating func fail(
        _ definition: ProfileDefinition, line: Int? = nil, key: String? = "source_profile", _ message: String, waitsOn: String? = nil
    ) {
        guard failed[definition.name] == nil else { return }
        failed[definition.name] = waitsOn ?? definition.name
        errors.append(
            ConfigError(
                file: configFile, line: line ?? definition.sourceProfile?.line ?? definition.sso?.line ?? definition.location.line,
                profile: definition.name, key: key, message: message, waitsOn: waitsOn))
    }

    private mutating func resolve(_ name: String, visiting: [String]) -> ManagedProfile? {
        if let done = resolved[name] { return done }
        guard failed[name] == nil, let definition = definitions[name] else { return nil }
        if let sso = definition.sso {
            guard let session = resolveSSOSession(definition, sso) else { return nil }
            return add(definition, kind: .sso(accountId: sso.accountId, roleName: sso.roleName), source: .ssoSession(session), chain: [name])
        }
        guard let sourceName = definition.sourceProfile?.value else { return nil }

        let source: ManagedProfile.Source
        let chain: [String]
        if managedNames.contains(sourceName) {
            let path = visiting + [name]
            if let start = path.firstIndex(of: sourceName) {
                failCycle(Array(path[start...]) + [sourceName])
                return nil
            }
            guard let sourceProfile = resolve(sourceName, visiting: path) else {
                // One line naming the root cause, not a cascade of "has errors" down the chain.
                let root = failed[sourceName] ?? sourceName
                let via = root == sourceName ? "" : " (through '\(sourceName)')"
                fail(definition, "waits for profile '\(root)'\(via), whose error is reported on its own line", waitsOn: root)
                return nil
            }
            guard let checked = checkManagedSource(definition, source: sourceProfile) else { return nil }
            source = checked
            chain = [name] + sourceProfile.sourceChain
        } else {
            guard let external = resolveExternalSource(definition) else { return nil }
            source = external
            chain = [name, sourceName]
        }

        let kind: ManagedProfile.Kind =
            definition.roleArn.map {
                .assumeRole(roleArn: $0.value, externalId: definition.externalId, roleSessionName: definition.roleSessionName)
            } ?? .sessionToken
        return add(definition, kind: kind, source: source, chain: chain)
    }

    private mutating func add(_ definition: ProfileDefinition, kind: ManagedProfile.Kind, source: ManagedProfile.Source, chain: [String])
        -> ManagedProfile
    {
        let profile = ManagedProfile(
            name: definition.name,
            kind: kind,
            source: source,
            mfaSerial: definition.mfaSerial,
            mfaProcess: definition.mfaProcess,
            durationSeconds: definition.durationSeconds?.value,
            region: definition.region,
            stsEndpoint: endpoints.resolve(
                profileURL: definition.endpointURL, profileRegion: definition.region, profileRegionalEndpoints: definition.regionalEndpoints),
            writeCredentials: definition.writeCredentials,
            credentialsSection: definition.credentialsSection.value,
            location: definition.location,
            sourceChain: chain,
            rotateAfter: definition.rotateAfter,
            roleOptions: definition.roleOptions
        )
        resolved[definition.name] = profile
        ordered.append(profile)
        return profile
    }

    /// The Identity Center session of an SSO profile: its `sso_session`, whose start URL and
    /// region on the profile (if given) must agree, as botocore requires; or the legacy form.
    private mutating func resolveSSOSession(_ definition: ProfileDefinition, _ sso: ProfileDefinition.SSOKeys) -> SSOSessionConfig? {
        guard let name = sso.session else {
            guard let startURL = sso.startURL, let region = sso.region else { return nil }
            return SSOSessionConfig(
                name: nil, startURL: startURL.value, region: region.value, registrationScopes: [],
                location: SourceLocation(file: configFile, line: startURL.line))
        }
        if let location = ssoSessions.broken[name.value] {
            let problems = ssoSessions.awsConfigProblems(name.value).map { " (\($0))" }.joined()
            fail(
                definition, line: name.line, key: "sso_session",
                "[sso-session \(name.value)] at \(location) has errors\(problems.isEmpty ? " (reported on their own lines)" : problems)")
            return nil
        }
        guard let session = ssoSessions.valid[name.value] else {
            var message = "no [sso-session \(Redaction.valuePrefix(name.value))] in \(configFile) or \(shared.configPath)"
            if let suggestion = ConfigValues.suggestion(for: name.value, among: ssoSessions.valid.keys) {
                message += "; did you mean '\(suggestion)'?"
            }
            fail(definition, line: name.line, key: "sso_session", message + "; add one with sso_start_url and sso_region")
            return nil
        }
        for (key, given, expected) in [("sso_start_url", sso.startURL, session.startURL), ("sso_region", sso.region, session.region)] {
            if let given, given.value != expected {
                fail(
                    definition, line: given.line, key: key,
                    "\(ConfigValues.quoted(given.value)) differs from \(ConfigValues.quoted(expected)) in [sso-session \(name.value)] at \(session.location); remove it from the profile (the session's value applies)"
                )
                return nil
            }
        }
        return session
    }

    /// Reports a cycle once, on its member that comes first in the file; the other members
    /// wait for that one.
    private mutating func failCycle(_ cycle: [String]) {
        let members = Array(cycle.dropLast())
        let ordered = members.compactMap { definitions[$0] }.sorted { $0.location.line < $1.location.line }
        guard let reported = ordered.first, let start = members.firstIndex(of: reported.name) else { return }
        let rotated = Array(members[start...] + members[..<start]) + [reported.name]
        let message =
            members.count == 1
            ? "source_profile names the profile itself; a managed profile needs another profile as its source"
            : "source_profile forms a cycle: \(rotated.joined(separator: " → ")); name a profile outside the cycle in one of them"
        fail(reported, message)
        for member in ordered.dropFirst() {
            fail(member, "is in the source_profile cycle reported on profile '\(reported.name)'", waitsOn: reported.name)
        }
    }

    /// Chaining from another managed profile, whose credentials are always a session.
    private mutating func checkManagedSource(_ definition: ProfileDefinition, source: ManagedProfile) -> ManagedProfile.Source? {
        guard definition.roleArn != nil else {
            fail(
                definition,
                "'\(source.name)' is a session credd manages, but this profile calls GetSessionToken, which AWS rejects when called with session credentials; use the long-term profile as source_profile, or add role_arn to assume a role"
            )
            return nil
        }
        if source.kind != .sessionToken, let duration = definition.durationSeconds, duration.value > 3600 {
            fail(
                definition, line: duration.line, key: "duration_seconds",
                "\(duration.value) is too long for role chaining: this role is assumed with '\(source.name)''s role session, and AWS limits such sessions to 3600 seconds"
            )
            return nil
        }
        return .managed(source.name)
    }

    /// A source in the AWS files: static keys (preferred, as in botocore), then keys in the
    /// Secret Service under the same name, then `credential_process`.
    private mutating func resolveExternalSource(_ definition: ProfileDefinition) -> ManagedProfile.Source? {
        guard let sourceName = definition.sourceProfile?.value else { return nil }
        if let writer = outputSections[sourceName] {
            fail(
                definition,
                "[\(sourceName)] in \(shared.credentialsPath) is the section credd writes for profile '\(writer)', so using it as a source would be circular; write source_profile = \(writer) to chain from that profile"
            )
            return nil
        }
        // Keys in the files win: they are what every other AWS tool sees under this name.
        if keyringProfiles.contains(sourceName), shared.profile(named: sourceName)?.value("aws_access_key_id") == nil {
            return .secretService(sourceName)
        }
        guard let profile = shared.profile(named: sourceName) else {
            // A name found nowhere may be a pasted secret: quote only a redacted prefix.
            let shown = Redaction.valuePrefix(sourceName)
            var message =
                "source profile '\(shown)' not found: no [profile \(shown)] in \(configFile), no [\(shown)] in \(shared.credentialsPath), no [profile \(shown)] in \(shared.configPath)"
            let candidates = managedNames.union(shared.profileNames)
            if let suggestion = ConfigValues.suggestion(for: sourceName, among: candidates) { message += "; did you mean '\(suggestion)'?" }
            for (file, reason) in shared.unreadable.sorted(by: { $0.key < $1.key }) { message += " (\(file) could not be read: \(reason))" }
            message += ConfigValues.inlineCommentHint(sourceName)
            fail(definition, message)
            return nil
        }
        if let section = profile.credentialsSection, CreddManagedSection.isManaged(section) {
            fail(
                definition,
                "[\(sourceName)] at \(shared.credentialsPath):\(section.headerLineNumber) is marked '\(CreddManagedSection.marker)': it holds a session credd wrote earlier, not a source; name the long-term profile in source_profile"
            )
            return nil
        }
        let isGetSessionToken = definition.roleArn == nil
        if let accessKey = profile.value("aws_access_key_id") {
            guard let secretKey = profile.value("aws_secret_access_key"), !secretKey.value.isEmpty, !accessKey.value.isEmpty else {
                fail(
                    definition,
                    "source profile '\(sourceName)' at \(accessKey.location) has an incomplete key pair: it needs both aws_access_key_id and aws_secret_access_key"
                )
                return nil
            }
            // botocore reads the legacy name first, so a stale one would win there too.
            let token = profile.value("aws_security_token") ?? profile.value("aws_session_token")
            if isGetSessionToken, token != nil {
                fail(
                    definition,
                    "source profile '\(sourceName)' at \(accessKey.location) holds session credentials (it has a session token); GetSessionToken must be called with long-term keys, which AWS requires"
                )
                return nil
            }
            let credentials = AWSCredentials(
                accessKeyId: accessKey.value,
                secretAccessKey: Secret(secretKey.value),
                sessionToken: token.flatMap { $0.value.isEmpty ? nil : Secret($0.value) },
                // botocore's aws_account_id: the account of a session of these keys.
                accountId: profile.value("aws_account_id").flatMap { AWSARN.isAccountID($0.value) ? $0.value : nil }
            )
            return .staticKeys(credentials, origin: accessKey.location)
        }
        if let process = profile.value("credential_process"), !process.value.isEmpty {
            return .credentialProcess(process.value, origin: process.location)
        }
        if profile.value("sso_session") != nil || profile.value("sso_start_url") != nil {
            fail(
                definition,
                "source profile '\(sourceName)' at \(profile.location) is an AWS CLI IAM Identity Center profile; to chain from it, define it in \(configFile) as [profile \(sourceName)] with its sso_session, sso_account_id and sso_role_name"
            )
        } else if profile.value("role_arn") != nil {
            fail(
                definition,
                "source profile '\(sourceName)' at \(profile.location) is an AWS CLI role profile; to chain from it, define it in \(configFile) as [profile \(sourceName)]"
            )
        } else {
            fail(
                definition,
                "source profile '\(sourceName)' at \(profile.location) has neither aws_access_key_id and aws_secret_access_key nor credential_process"
            )
        }
        return nil
    }
}
