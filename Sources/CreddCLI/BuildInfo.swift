// `scripts/build-info` rewrites this file with the commit being built and the build date; the
// checked-in copy says "unknown", so a plain `swift build` works and never claims what it cannot know.
enum BuildInfo {
    static let commit = "unknown"
    static let date = "unknown"
}
