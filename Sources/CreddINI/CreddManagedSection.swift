/// How credd marks a `~/.aws/credentials` section as its own: the line right after the header
/// is the comment `# managed by credd`. Defined next to the INI document because both the
/// writer (which sets and checks it) and the config resolver (which must never use such a
/// section as a long-term source) read it.
public enum CreddManagedSection {
    /// The full comment line, as written.
    public static let marker = "# managed by credd"

    /// Whether the line right after `section`'s header is the marker.
    public static func isManaged(_ section: INISection) -> Bool {
        section.lines.dropFirst().first?.isComment(marker) ?? false
    }
}
