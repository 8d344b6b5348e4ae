import CGlibcGNU
import Glibc

/// Keeps credentials out of core dumps: a core file, or `gcore` run by the same user, would hold
/// every key, session and endpoint token the daemon has in memory.
enum CoreDumps {
    /// Sets the core size limit to 0 (soft and hard, so children inherit it) and makes the process
    /// non-dumpable, which also keeps same-uid processes without CAP_SYS_PTRACE from attaching
    /// to it or reading its memory and environment through /proc.
    static func disable() throws(DaemonError) {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) == 0 else {
            throw DaemonError.hardening("setrlimit(RLIMIT_CORE, 0)", errno)
        }
        guard credd_set_dumpable(0) == 0 else {
            throw DaemonError.hardening("prctl(PR_SET_DUMPABLE, 0)", errno)
        }
    }
}
