import CreddINI

/// `~/.aws/credentials` and `~/.aws/config` as botocore merges them into one profile view:
/// credentials-file keys override config-file keys of the same profile.
struct AWSSharedFiles: Sendable {
    /// One key's value and where it was read.
    struct Value: Sendable {
        let value: String
        let location: SourceLocation
    }

    /// A profile's merged keys.
    struct Profile: Sendable {
        var values: [String: Value] = [:]
        /// The `[name]` section of the credentials file, if there is one.
        var credentialsSection: INISection?
        /// The header of the first section found, for messages.
        var location: SourceLocation

        func value(_ key: String) -> Value? { values[key] }
    }

    let credentialsPath: String
    let credentials: INIDocument
    let configPath: String
    let config: INIDocument
    /// Files that exist but could not be read or decoded, with the reason.
    let unreadable: [String: String]

    /// The merged profile `name`, or `nil` when neither file has it.
    func profile(named name: String) -> Profile? {
        var profile: Profile?
        let configSection = config.sections.first { Self.configProfileName($0.name) == name }
        if let configSection {
            var merged = Profile(location: SourceLocation(file: configPath, line: configSection.headerLineNumber))
            for entry in configSection.entries where merged.values[entry.key] == nil {
                merged.values[entry.key] = Value(value: entry.value, location: SourceLocation(file: configPath, line: entry.lineNumber))
            }
            profile = merged
        }
        if let credentialsSection = credentials.section(named: name) {
            var merged = profile ?? Profile(location: SourceLocation(file: credentialsPath, line: credentialsSection.headerLineNumber))
            merged.credentialsSection = credentialsSection
            var seen: Set<String> = []
            for entry in credentialsSection.entries where seen.insert(entry.key).inserted {
                merged.values[entry.key] = Value(value: entry.value, location: SourceLocation(file: credentialsPath, line: entry.lineNumber))
            }
            profile = merged
        }
        return profile
    }

    /// Every profile name either file defines, for "did you mean".
    var profileNames: Set<String> {
        Set(config.sections.compactMap { Self.configProfileName($0.name) } + credentials.sections.map(\.name))
    }

    /// The profile a config-file section defines, as botocore reads it: `[default]` or
    /// `[profile NAME]` (`NAME` may be quoted); `nil` for other sections.
    static func configProfileName(_ sectionName: String) -> String? {
        if sectionName == "default" { return "default" }
        guard sectionName.hasPrefix("profile") else { return nil }
        let rest = sectionName.dropFirst("profile".count)
        guard let first = rest.first, first == " " || first == "\t" else { return nil }
        let name = rest.trimmingSpacesAndTabs()
        if let quote = name.first, quote == "\"" || quote == "'" {
            guard name.count >= 3, name.last == quote else { return nil }
            return String(name.dropFirst().dropLast())
        }
        return name.isEmpty || name.contains(where: { $0 == " " || $0 == "\t" }) ? nil : name
    }
}

extension StringProtocol {
    /// Trims spaces and tabs from both ends.
    func trimmingSpacesAndTabs() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
