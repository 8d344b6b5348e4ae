/// credd's version, the one place it is written: `credd --version`, the status document and
/// the daemon's start message all read it.
public enum CreddVersion {
    public static let number = "0.1.0"
    /// `scripts/build-info` writes the commit being built and the build date here; the checked-in
    /// "unknown" lets a plain `swift build` work without claiming what it cannot know.
    public static let commit = "unknown"
    public static let buildDate = "unknown"
    /// What `credd --version` prints: `credd 0.1.0 (commit 2fe14a2c0d1e, built 2026-12-07)`.
    public static var description: String { "credd \(number) (commit \(commit), built \(buildDate))" }
}
