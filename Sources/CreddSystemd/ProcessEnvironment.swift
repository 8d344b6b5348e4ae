#if canImport(Glibc)
    import Glibc
#endif

/// A variable of this process's environment as it is now. systemd's protocols are defined on the
/// live environment (a child process inherits what is left), not on a copy taken at start.
func environmentValue(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
