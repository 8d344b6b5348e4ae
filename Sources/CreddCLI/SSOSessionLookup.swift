import CreddConfig
import CreddCore
import CreddINI
import CreddSSO

/// What `credd login NAME` and `credd sso profiles NAME` mean by NAME: an `[sso-session NAME]`
/// (credd's config first, then `~/.aws/config`, as the daemon reads them), or a profile that
/// signs in through one (`sso_session = …`, or the legacy `sso_start_url` and `sso_region`).
struct SSOSessionLookup {
    /// A session to sign in to, and the profiles of credd's config that use it.
    struct Target {
        let session: SSOSession
        /// Profiles in credd's config whose credentials come from this session, for the poke
        /// that asks a running daemon to renew them at once.
        let profiles: [String]
    }

    enum Outcome {
        case sso(Target)
        /// No session and no SSO profile of that name: an MFA profile, or a typo.
        case notSSO
        case invalid(String)
    }

    /// (file, document) pairs, credd's config first.
    let documents: [(file: String, document: INIDocument)]

    init(configuration: LoadedConfiguration, reader: some FileReading = .system) {
        documents = [configuration.settings.configFile, configuration.settings.awsConfigFile].compactMap { file in
            guard case let .contents(bytes)? = try? reader.read(file), let document = try? INIDocument(bytes: bytes) else { return nil }
            return (file, document)
        }
    }

    func resolve(_ name: String) -> Outcome {
        let creddProfile = documents.first.flatMap { Self.profileSection(name, in: $0.document) }
        if let found = sessionSection(name) {
            if let creddProfile, Self.signInKeys(of: creddProfile) == nil {
                return .invalid(
                    "'\(name)' names both an [sso-session] and a profile that is not an Identity Center profile in \(documents[0].file); rename one")
            }
            return session(named: name, section: found.section, file: found.file)
        }
        // The first file defining the profile counts, as for the daemon.
        for (file, document) in documents {
            guard let profile = Self.profileSection(name, in: document) else { continue }
            guard let keys = Self.signInKeys(of: profile) else { return .notSSO }
            switch keys {
            case .session(let sessionName):
                guard let found = sessionSection(sessionName) else {
                    return .invalid("profile '\(name)' in \(file) names sso_session '\(sessionName)', but no [sso-session \(sessionName)] exists")
                }
                return session(named: sessionName, section: found.section, file: found.file)
            case .legacy(let startURL, let region):
                let legacy = SSOSession(name: nil, startURL: startURL, region: region, scopes: [])
                return .sso(Target(session: legacy, profiles: profiles { $0.value(forKey: "sso_start_url") == startURL }))
            }
        }
        return .notSSO
    }

    private func session(named name: String, section: INISection, file: String) -> Outcome {
        guard let startURL = section.value(forKey: "sso_start_url"), !startURL.isEmpty else {
            return .invalid("[sso-session \(name)] in \(file) has no sso_start_url")
        }
        guard let region = section.value(forKey: "sso_region"), !region.isEmpty else {
            return .invalid("[sso-session \(name)] in \(file) has no sso_region")
        }
        let scopes = (section.value(forKey: "sso_registration_scopes") ?? "").split(separator: ",").map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
        let session = SSOSession(name: name, startURL: startURL, region: region, scopes: scopes)
        return .sso(Target(session: session, profiles: profiles { $0.value(forKey: "sso_session") == name }))
    }

    private func sessionSection(_ name: String) -> (file: String, section: INISection)? {
        for (file, document) in documents {
            if let section = document.sections.first(where: { Self.words($0.name) == ["sso-session", name] }) { return (file, section) }
        }
        return nil
    }

    /// The profiles of credd's config whose section matches.
    private func profiles(where matches: (INISection) -> Bool) -> [String] {
        guard let config = documents.first?.document else { return [] }
        return config.sections.compactMap { section in
            let words = Self.words(section.name)
            return words.count == 2 && words[0] == "profile" && matches(section) ? words[1] : nil
        }
    }

    /// The profiles of credd's config that take `roleName` in `accountId` from session `sessionName`.
    func existingProfile(sessionName: String, accountId: String, roleName: String) -> String? {
        profiles {
            $0.value(forKey: "sso_session") == sessionName && $0.value(forKey: "sso_account_id") == accountId
                && $0.value(forKey: "sso_role_name") == roleName
        }.first
    }

    private enum SignInKeys {
        case session(String)
        case legacy(startURL: String, region: String)
    }

    private static func signInKeys(of profile: INISection) -> SignInKeys? {
        if let name = profile.value(forKey: "sso_session"), !name.isEmpty { return .session(name) }
        if let startURL = profile.value(forKey: "sso_start_url"), !startURL.isEmpty, let region = profile.value(forKey: "sso_region"),
            !region.isEmpty
        {
            return .legacy(startURL: startURL, region: region)
        }
        return nil
    }

    private static func profileSection(_ name: String, in document: INIDocument) -> INISection? {
        document.sections.first { name == "default" ? $0.name == "default" : words($0.name) == ["profile", name] }
    }

    private static func words(_ header: String) -> [String] {
        header.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
}
