import FoundationEssentials
import Glibc
import Synchronization

/// The environment credd hands to the programs it starts (`mfa_process`, `credential_process`,
/// the command of `credd exec`): the user's own, without what credd set for itself.
public enum InheritedEnvironment {
    private static let libdispatchLog = "LIBDISPATCH_LOG"
    private static let silencedLibdispatch = Atomic<Bool>(false)

    /// Turns libdispatch's own logging off in this process, unless the user chose a
    /// `LIBDISPATCH_LOG`. libdispatch reads it from the live environment when it first logs, so
    /// it must be set there; ``current()`` leaves it out again for children.
    public static func silenceLibdispatch() {
        guard getenv(libdispatchLog) == nil else { return }
        setenv(libdispatchLog, "NO", 1)
        silencedLibdispatch.store(true, ordering: .relaxed)
    }

    /// This process's environment as children should inherit it.
    public static func current() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if silencedLibdispatch.load(ordering: .relaxed) { environment[libdispatchLog] = nil }
        return environment
    }
}
