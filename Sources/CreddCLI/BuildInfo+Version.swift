import CreddDaemon

extension BuildInfo {
    /// `credd --version`: `credd 0.1.0 (commit 2fe14a2c0d1e, built 2026-12-07)`.
    static var versionLine: String {
        "credd \(CreddVersion.number) (commit \(commit), built \(date))"
    }
}
