import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Where the daemon keeps its per-user runtime files: the control socket and the container
/// API token, in a directory only the user can enter. The CLI finds the daemon here; the daemon
/// creates the directory (`prepare()`, in CreddDaemon).
public struct RuntimePaths: Sendable, Hashable {
    public let directory: String
    /// The directory is the fallback in a directory every user can write (no XDG_RUNTIME_DIR):
    /// anyone may have created it first, so an existing one is used only if it is exactly ours.
    public let isSharedFallback: Bool

    public var controlSocket: String { directory + "/control.sock" }
    public var tokenFile: String { directory + "/token" }

    public init(directory: String) {
        self.init(directory: directory, isSharedFallback: false)
    }

    init(directory: String, isSharedFallback: Bool) {
        self.directory = directory
        self.isSharedFallback = isSharedFallback
    }

    /// `$XDG_RUNTIME_DIR/credd`; without it (a bare root shell, CI), `/tmp/credd-UID`
    /// (`fallbackParent` is for tests), which `prepare()` uses only if this user made it private.
    public init(environment: [String: String], fallbackParent: String = "/tmp") {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            self.init(directory: runtime + "/credd")
        } else {
            self.init(directory: "\(fallbackParent)/credd-\(getuid())", isSharedFallback: true)
        }
    }
}
