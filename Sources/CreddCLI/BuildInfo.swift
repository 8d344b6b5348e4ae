// `scripts/build-info` rewrites this file with the commit being built; the checked-in copy
// says "unknown", so a plain `swift build` works and never claims a commit it cannot know.
enum BuildInfo {
    static let commit = "unknown"
}
