import CreddINI
import FoundationEssentials

/// An IAM Identity Center session a profile signs in with, resolved: an `[sso-session NAME]`
/// section (credd's config, else `~/.aws/config`), or the legacy form with `sso_start_url` and
/// `sso_region` on the profile itself.
public struct SSOSessionConfig: Sendable, Hashable {
    /// The sso-session's name; `nil` for the legacy form, whose token cache is keyed by the
    /// start URL and which has no refresh token.
    public let name: String?
    public let startURL: String
    public let region: String
    /// `sso_registration_scopes`; empty means the token cannot be refreshed (botocore registers
    /// without scopes then, and gets no refresh token).
    public let registrationScopes: [String]
    /// The section header (or, legacy, the profile's `sso_start_url` line).
    public let location: SourceLocation
    /// The `[sso-session NAME]` of `~/.aws/config` that credd's own section of the same name hides.
    public let shadows: SourceLocation?

    public init(
        name: String?, startURL: String, region: String, registrationScopes: [String], location: SourceLocation, shadows: SourceLocation? = nil
    ) {
        self.name = name
        self.startURL = startURL
        self.region = region
        self.registrationScopes = registrationScopes
        self.location = location
        self.shadows = shadows
    }

    /// What `credd login` takes and status shows: the session's name, or the start URL (legacy).
    public var displayName: String { name ?? startURL }

    /// Limits of this session's form, for `credd check`; `nil` when there are none.
    public var limitation: String? {
        if name == nil {
            return
                "legacy sso_start_url form: the token has no refresh token, so a new sign-in is needed whenever it expires (about every 8 hours); define an [sso-session NAME] with sso_registration_scopes = sso:account:access and set sso_session = NAME"
        }
        if registrationScopes.isEmpty {
            return
                "no sso_registration_scopes: the token cannot be refreshed, so a new sign-in is needed whenever it expires; add sso_registration_scopes = sso:account:access"
        }
        return nil
    }
}

/// `[sso-session NAME]` sections: parsing and validation of one section.
enum SSOSessionSection {
    static let keys = ["sso_start_url", "sso_region", "sso_registration_scopes"]

    /// The session name of an `[sso-session NAME]` header, or `nil` for other sections.
    static func name(_ sectionName: String) -> String? {
        guard sectionName.hasPrefix("sso-session") else { return nil }
        let rest = sectionName.dropFirst("sso-session".count)
        guard let first = rest.first, first == " " || first == "\t" else { return nil }
        let name = rest.trimmingSpacesAndTabs()
        return name.isEmpty || name.contains(where: { $0 == " " || $0 == "\t" }) ? nil : name
    }

    /// Validates `section`. `strict` (credd's own config) also rejects keys credd does not know;
    /// `~/.aws/config` may carry keys for other tools.
    enum Parsed {
        case valid(SSOSessionConfig)
        case invalid([ConfigError])
    }

    static func parse(_ section: INISection, name: String, file: String, strict: Bool) -> Parsed {
        var errors: [ConfigError] = []
        func fail(_ entry: INISection.Entry?, key: String?, _ message: String) {
            let hint = entry.map { ConfigValues.inlineCommentHint($0.value) } ?? ""
            errors.append(
                ConfigError(file: file, line: entry?.lineNumber ?? section.headerLineNumber, ssoSession: name, key: key, message: message + hint))
        }
        if !ConfigValues.isProfileName(name) {
            fail(nil, key: nil, "sso-session names may contain only letters, digits and _ - / . % @")
        }
        var values: [String: INISection.Entry] = [:]
        for entry in section.entries {
            if !keys.contains(entry.key) {
                guard strict else { continue }
                let suggestion = ConfigValues.suggestion(for: entry.key, among: keys).map { "; did you mean '\($0)'?" } ?? ""
                fail(entry, key: entry.key, "unknown key in an sso-session\(suggestion)")
            } else if values[entry.key] != nil {
                continue
            } else if entry.value.isEmpty {
                fail(entry, key: entry.key, "has no value; set one or remove the line")
            } else {
                values[entry.key] = entry
            }
        }
        let startURL = startURL(values["sso_start_url"], fail: fail)
        if values["sso_start_url"] == nil, !errors.contains(where: { $0.key == "sso_start_url" }) {
            fail(nil, key: "sso_start_url", "missing: the AWS access portal URL, such as https://my-company.awsapps.com/start")
        }
        let region = region(values["sso_region"], fail: fail)
        if values["sso_region"] == nil, !errors.contains(where: { $0.key == "sso_region" }) {
            fail(nil, key: "sso_region", "missing: the region of the Identity Center instance, such as us-east-1")
        }
        var scopes: [String] = []
        if let entry = values["sso_registration_scopes"] {
            scopes = entry.value.split(separator: ",").map { $0.trimmingSpacesAndTabs() }.filter { !$0.isEmpty }
            if scopes.isEmpty || scopes.contains(where: { $0.contains(" ") || $0.contains("\t") }) {
                fail(
                    entry, key: "sso_registration_scopes",
                    "\(ConfigValues.quoted(entry.value)) is not valid: expected a comma-separated list such as sso:account:access")
            }
        }
        guard errors.isEmpty, let startURL, let region else { return .invalid(errors) }
        return .valid(
            SSOSessionConfig(
                name: name, startURL: startURL, region: region, registrationScopes: scopes,
                location: SourceLocation(file: file, line: section.headerLineNumber)))
    }

    /// An access portal URL: `https://…`, or plain http to a loopback host (tests, emulators).
    static func startURL(_ entry: INISection.Entry?, fail: (INISection.Entry?, String?, String) -> Void) -> String? {
        guard let entry else { return nil }
        guard case .success = ConfigValues.parseEndpointURL(entry.value) else {
            fail(
                entry, "sso_start_url",
                "\(ConfigValues.quoted(entry.value)) is not valid: expected an https URL such as https://my-company.awsapps.com/start (plain http only to a loopback host)"
            )
            return nil
        }
        return entry.value
    }

    static func region(_ entry: INISection.Entry?, fail: (INISection.Entry?, String?, String) -> Void) -> String? {
        guard let entry else { return nil }
        guard ConfigValues.isRegion(entry.value) else {
            fail(entry, "sso_region", "\(ConfigValues.quoted(entry.value)) is not valid: expected a region name such as us-east-1")
            return nil
        }
        return entry.value
    }
}

/// The `[sso-session NAME]` sections of credd's config and of `~/.aws/config`, merged: credd's
/// own section wins over the AWS CLI's of the same name.
struct SSOSessions: Sendable {
    /// The sessions that parsed, by name.
    let valid: [String: SSOSessionConfig]
    /// Sessions whose section has errors, with where those are reported.
    let broken: [String: SourceLocation]

    /// Parses every section. Errors in credd's config are reported at once; those of
    /// `~/.aws/config` only when a profile uses the session (the AWS CLI's own business otherwise).
    init(
        creddSections: [(name: String, section: INISection)], file: String, awsConfig: INIDocument, awsConfigPath: String, errors: inout [ConfigError]
    ) {
        var valid: [String: SSOSessionConfig] = [:]
        var broken: [String: SourceLocation] = [:]
        var awsSections: [String: INISection] = [:]
        for section in awsConfig.sections {
            guard let name = SSOSessionSection.name(section.name), awsSections[name] == nil else { continue }
            awsSections[name] = section
        }
        for (name, section) in creddSections {
            let shadowed = awsSections.removeValue(forKey: name).map { SourceLocation(file: awsConfigPath, line: $0.headerLineNumber) }
            switch SSOSessionSection.parse(section, name: name, file: file, strict: true) {
            case let .valid(session):
                valid[name] = SSOSessionConfig(
                    name: name, startURL: session.startURL, region: session.region, registrationScopes: session.registrationScopes,
                    location: session.location, shadows: shadowed)
            case let .invalid(problems):
                errors += problems
                broken[name] = SourceLocation(file: file, line: section.headerLineNumber)
            }
        }
        for (name, section) in awsSections {
            switch SSOSessionSection.parse(section, name: name, file: awsConfigPath, strict: false) {
            case let .valid(session): valid[name] = session
            case .invalid: broken[name] = SourceLocation(file: awsConfigPath, line: section.headerLineNumber)
            }
        }
        self.valid = valid
        self.broken = broken
        self.awsSections = awsSections
        self.awsConfigPath = awsConfigPath
    }

    private let awsSections: [String: INISection]
    private let awsConfigPath: String

    /// The problems of the broken `~/.aws/config` session `name`, for the profile that uses it.
    func awsConfigProblems(_ name: String) -> [ConfigError] {
        guard let section = awsSections[name],
            case let .invalid(problems) = SSOSessionSection.parse(section, name: name, file: awsConfigPath, strict: false)
        else {
            return []
        }
        return problems
    }
}
