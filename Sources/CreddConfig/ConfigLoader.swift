import CreddCore
import CreddINI

/// Finds, reads and resolves credd's configuration (docs/design.md §2).
public enum ConfigLoader {
    /// The config files to try, in order: `--config`, `$CREDD_CONFIG`,
    /// `$XDG_CONFIG_HOME/credd/config`, `~/.config/credd/config`. The first two are explicit
    /// choices, so a missing file there is an error rather than a reason to look further.
    public static func candidatePaths(explicitPath: String?, environment: [String: String]) -> [(path: String, explicit: Bool)] {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        if let explicitPath { return [(expandingHome(explicitPath, home: home), true)] }
        if let path = environment["CREDD_CONFIG"], !path.isEmpty { return [(expandingHome(path, home: home), true)] }
        var paths: [(String, Bool)] = []
        // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { paths.append((xdg + "/credd/config", false)) }
        if let home { paths.append((home + "/.config/credd/config", false)) }
        return paths
    }

    /// Loads the configuration. Throws only when no config file can be found, read or decoded,
    /// or the file has no sections at all; every other problem is in `errors`, next to the
    /// profiles that are fine. `keyringProfiles` names the profiles whose keys the Secret Service
    /// holds.
    public static func load(
        explicitPath: String?, environment: [String: String], reader: some FileReading = .system, keyringProfiles: Set<String> = []
    ) throws(ConfigError) -> LoadedConfiguration {
        let candidates = candidatePaths(explicitPath: explicitPath, environment: environment)
        for candidate in candidates {
            let result: FileReadResult
            do {
                result = try reader.read(candidate.path)
            } catch {
                throw ConfigError(file: candidate.path, message: "cannot read the credd config: \(error.reason)")
            }
            switch result {
            case let .contents(bytes):
                let document: INIDocument
                do {
                    document = try INIDocument(bytes: bytes)
                } catch {
                    throw ConfigError(file: candidate.path, line: lineNumber(of: error), message: "\(error.description); save the file as UTF-8")
                }
                // Empty is what a reader sees while an editor or `cat >` rewrites the file in
                // place: not a config that removes every profile (one with `[credd]` alone does).
                guard !document.sections.isEmpty else {
                    throw ConfigError(
                        file: candidate.path,
                        message:
                            "the credd config has no sections (it is empty, or being written); a running daemon keeps the config it has. Add [credd] or [profile NAME]"
                    )
                }
                return resolve(document, file: candidate.path, environment: environment, reader: reader, keyringProfiles: keyringProfiles)
            case .missing:
                if candidate.explicit { throw ConfigError(file: candidate.path, message: "the credd config file does not exist") }
            }
        }
        // $XDG_CONFIG_HOME is often ~/.config: name each place once.
        var seen: Set<String> = []
        let searched = candidates.map(\.path).filter { seen.insert($0).inserted }.joined(separator: ", ")
        throw ConfigError(
            file: "",
            message:
                "no credd config found (looked for \(searched.isEmpty ? "$XDG_CONFIG_HOME/credd/config and ~/.config/credd/config, but HOME is not set" : searched)); create one or pass --config PATH"
        )
    }

    /// Resolves an already parsed config document; the AWS files are read through `reader`.
    static func resolve(
        _ document: INIDocument, file: String, environment: [String: String], reader: some FileReading, keyringProfiles: Set<String> = []
    ) -> LoadedConfiguration {
        var errors: [ConfigError] = []
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }

        // Sections: [credd] and profiles; every diagnostic lands on the profile it is in.
        var profileSections: [(name: String, section: INISection)] = []
        var profileErrors: [String: [ConfigError]] = [:]
        var creddSection: INISection?
        var ssoSessionSections: [(name: String, section: INISection)] = []
        let sections = document.sections
        for section in sections {
            if section.name == "credd" {
                if creddSection == nil { creddSection = section }
            } else if let name = SSOSessionSection.name(section.name) {
                if let earlier = ssoSessionSections.first(where: { $0.name == name }) {
                    errors.append(
                        ConfigError(
                            file: file, line: section.headerLineNumber, ssoSession: name,
                            message: "defined twice (first at line \(earlier.section.headerLineNumber)); keep one"))
                } else {
                    ssoSessionSections.append((name, section))
                }
            } else if let name = AWSSharedFiles.configProfileName(section.name) {
                if let earlier = profileSections.first(where: { $0.name == name }), earlier.section.name != section.name {
                    profileErrors[name, default: []].append(
                        ConfigError(
                            file: file, line: section.headerLineNumber, profile: name,
                            message:
                                "[\(section.name)] and [\(earlier.section.name)] (line \(earlier.section.headerLineNumber)) define the same profile; keep one"
                        ))
                } else if !profileSections.contains(where: { $0.name == name }) {
                    profileSections.append((name, section))
                }
            } else {
                errors.append(
                    ConfigError(
                        file: file, line: section.headerLineNumber,
                        message:
                            "unknown section [\(Redaction.valuePrefix(section.name))]: credd reads [credd], [profile NAME] and [sso-session NAME]\(sectionHint(section.name))"
                    ))
            }
        }
        for diagnostic in document.diagnostics {
            let section = sections.last { $0.headerLineNumber <= diagnostic.line }
            let owner = diagnostic.problem == .byteOrderMark ? nil : section.flatMap { AWSSharedFiles.configProfileName($0.name) }
            if let owner {
                profileErrors[owner, default: []].append(
                    ConfigError(file: file, line: diagnostic.line, column: diagnostic.column, profile: owner, message: diagnostic.message))
            } else {
                errors.append(ConfigError(file: file, line: diagnostic.line, column: diagnostic.column, message: diagnostic.message))
            }
        }

        let creddSettings = CreddSectionSettings(section: creddSection, file: file, home: home, errors: &errors)

        let awsHome = home.map { $0 + "/.aws" } ?? "~/.aws"
        let credentialsPath =
            creddSettings.credentialsFile
            ?? environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : expandingHome($0, home: home) }
            ?? awsHome + "/credentials"
        let awsConfigPath =
            environment["AWS_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : expandingHome($0, home: home) }
            ?? awsHome + "/config"
        if home == nil {
            errors.append(ConfigError(file: "environment", key: "HOME", message: "HOME is not set, so ~/.aws cannot be found; set HOME"))
        }

        var unreadable: [String: String] = [:]
        let credentials = readAWSFile(credentialsPath, reader: reader, errors: &errors, unreadable: &unreadable)
        let awsConfig = readAWSFile(awsConfigPath, reader: reader, errors: &errors, unreadable: &unreadable)
        let shared = AWSSharedFiles(
            credentialsPath: credentialsPath, credentials: credentials, configPath: awsConfigPath, config: awsConfig, unreadable: unreadable)

        // Profiles, each validated on its own.
        var definitions: [String: ProfileDefinition] = [:]
        var outputSections: [String: String] = [:]
        for (name, section) in profileSections {
            if let problems = profileErrors[name] {
                errors += problems
                continue
            }
            switch ProfileDefinition.parse(section: section, name: name, file: file, reader: reader, home: home) {
            case let .invalid(problems):
                errors += problems
            case let .valid(definition):
                let output = definition.credentialsSection
                if definition.writeCredentials, let owner = outputSections[output.value] {
                    errors.append(
                        ConfigError(
                            file: file, line: output.line, profile: name, key: "credentials_section",
                            message: "[\(output.value)] is already written by profile '\(owner)'; give each profile its own credentials_section"))
                    continue
                }
                if definition.writeCredentials { outputSections[output.value] = name }
                definitions[name] = definition
            }
        }

        let ssoSessions = SSOSessions(
            creddSections: ssoSessionSections, file: file, awsConfig: awsConfig, awsConfigPath: awsConfigPath, errors: &errors)
        let endpoints = STSEndpointResolver(environment: environment, errors: &errors)
        var resolver = ProfileResolver(
            configFile: file, definitions: definitions, managedNames: Set(profileSections.map(\.name)),
            shared: shared, outputSections: outputSections, endpoints: endpoints, ssoSessions: ssoSessions,
            keyringProfiles: keyringProfiles
        )
        resolver.resolveAll(profileSections.map(\.name))
        errors += resolver.errors

        var imdsName: String?
        if let imdsProfile = creddSettings.imdsProfile {
            if resolver.ordered.contains(where: { $0.name == imdsProfile.name }) {
                imdsName = imdsProfile.name
            } else if profileSections.contains(where: { $0.name == imdsProfile.name }) {
                errors.append(
                    ConfigError(
                        file: file, line: imdsProfile.line, key: "imds_profile",
                        message:
                            "profile '\(imdsProfile.name)' has errors (reported separately), so the IMDS endpoint names no role until they are fixed")
                )
            } else {
                let suggestion =
                    ConfigValues.suggestion(for: imdsProfile.name, among: profileSections.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                errors.append(
                    ConfigError(
                        file: file, line: imdsProfile.line, key: "imds_profile",
                        message:
                            "no [profile \(Redaction.valuePrefix(imdsProfile.name))] in this file\(suggestion)\(ConfigValues.inlineCommentHint(imdsProfile.name))"
                    ))
            }
        }

        let settings = DaemonSettings(
            listenHost: creddSettings.listen.host, listenPort: creddSettings.listen.port, imdsProfile: imdsName,
            credentialsFile: credentialsPath, awsConfigFile: awsConfigPath, configFile: file,
            notifications: creddSettings.notifications, notifyActionCommand: creddSettings.notifyActionCommand
        )
        // Policy files count as config: an edit renews the profiles that send them, and creating
        // a missing one fixes its profile.
        let policyFiles = Set(
            profileSections.compactMap { profile in
                profile.section.entry(forKey: "policy_file").flatMap {
                    $0.value.isEmpty ? nil : ProfileDefinition.policyPath($0.value, configFile: file, home: home)
                }
            }
        ).sorted()
        return LoadedConfiguration(
            settings: settings, profiles: resolver.ordered, errors: errors, watchedFiles: [file, awsConfigPath, credentialsPath] + policyFiles,
            ssoSessions: ssoSessions.valid.values.sorted { $0.displayName < $1.displayName })
    }

    /// Reads an optional AWS file: missing is empty; unreadable or undecodable is reported and
    /// treated as empty; diagnostics are reported because botocore would reject the file.
    private static func readAWSFile(_ path: String, reader: some FileReading, errors: inout [ConfigError], unreadable: inout [String: String])
        -> INIDocument
    {
        let result: FileReadResult
        do {
            result = try reader.read(path)
        } catch {
            unreadable[path] = error.reason
            errors.append(ConfigError(file: path, message: "cannot read: \(error.reason); profiles sourced from it cannot be resolved"))
            return INIDocument()
        }
        guard case let .contents(bytes) = result else { return INIDocument() }
        do {
            let document = try INIDocument(bytes: bytes)
            for diagnostic in document.diagnostics {
                errors.append(
                    ConfigError(
                        file: path, line: diagnostic.line, column: diagnostic.column,
                        message: "\(diagnostic.message) (AWS tools will fail on this file too)"))
            }
            return document
        } catch {
            unreadable[path] = error.description
            errors.append(
                ConfigError(file: path, line: lineNumber(of: error), message: "\(error.description); profiles sourced from it cannot be resolved"))
            return INIDocument()
        }
    }

    private static func lineNumber(of error: INIError) -> Int? {
        switch error {
        case let .invalidUTF8(line): return line
        case .noSuchSection, .sectionExists, .invalidKey, .invalidValue, .invalidSectionName, .invalidComment: return nil
        }
    }

    /// `~` and `~/…` become `$HOME` and `$HOME/…`; other paths are returned unchanged.
    static func expandingHome(_ path: String, home: String?) -> String {
        guard let home else { return path }
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst() }
        return path
    }

    /// A likely intended header for an unknown section: `[credd]`, or `[profile NAME]`.
    private static func sectionHint(_ name: String) -> String {
        let bare = name.trimmingSpacesAndTabs()
        let words = bare.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if words.count == 2, ConfigValues.editDistance(String(words[0]), "profile") <= 2 {
            return "; did you mean [profile \(Redaction.valuePrefix(String(words[1])))]?"
        }
        if ConfigValues.editDistance(bare, "credd") <= 2 { return "; did you mean [credd]?" }
        return words.count == 1 ? "; did you mean [profile \(Redaction.valuePrefix(bare))]?" : ""
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
