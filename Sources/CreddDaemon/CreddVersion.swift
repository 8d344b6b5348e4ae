/// credd's version, the one place it is written: `credd --version`, the status document and
/// the daemon's start message all read it.
public enum CreddVersion {
    public static let number = "0.1.0"
    /// `scripts/build-info` writes the commit being built here; the checked-in "unknown" lets a
    /// plain `swift build` work without claiming a commit it cannot know.
    public static let commit = "unknown"
    /// What `credd --version` prints.
    public static var description: String { "\(number) (commit \(commit))" }
}
