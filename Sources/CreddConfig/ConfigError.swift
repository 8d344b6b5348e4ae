/// A place in a file, for messages: `file:line`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based.
    public let line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One problem in the configuration, naming everything the user needs to find and fix it.
/// Messages never contain secret values.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in; `"environment"` for environment variables, empty when no
    /// file could be found at all.
    public let file: String
    /// 1-based, when the problem is on a line.
    public let line: Int?
    /// 1-based, for INI syntax problems.
    public let column: Int?
    /// The managed profile the problem belongs to; `nil` for global problems.
    public let profile: String?
    /// The `[sso-session NAME]` the problem is in, for problems outside any profile.
    public let ssoSession: String?
    /// The config key or environment variable at fault.
    public let key: String?
    /// What is wrong and what to do about it.
    public let message: String
    /// Set when this is not a problem of its own: the profile only waits for `waitsOn`, the
    /// broken profile at the root of its `source_profile` chain, whose error says what to fix.
    public let waitsOn: String?

    public init(
        file: String, line: Int? = nil, column: Int? = nil, profile: String? = nil, ssoSession: String? = nil, key: String? = nil, message: String,
        waitsOn: String? = nil
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.profile = profile
        self.ssoSession = ssoSession
        self.key = key
        self.message = message
        self.waitsOn = waitsOn
    }

    /// `file:line:column: [profile dev] key 'role_arn': message`, leaving out what is unknown.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        var parts: [String] = location.isEmpty ? [] : [location + ":"]
        if let profile { parts.append("[profile \(profile)]") }
        if let ssoSession { parts.append("[sso-session \(ssoSession)]") }
        if let key { parts.append("key \(ConfigValues.quoted(key)):") }
        parts.append(message)
        return parts.joined(separator: " ")
    }
}
