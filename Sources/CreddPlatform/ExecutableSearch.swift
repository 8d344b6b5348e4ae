import Glibc

/// Finds the program of a command line as `execvp` would: a name with a `/` is used as given,
/// any other name is looked up in `PATH`. Shared by the code that runs helpers and by
/// `credd check`, which warns about a helper that would not start.
public enum ExecutableSearch {
    /// Why a program would not start.
    public enum Problem: Error, Sendable, Hashable {
        /// A bare name found in no directory of the search path.
        case notOnPath(searched: String)
        /// A path naming nothing.
        case missing
        /// There, but not a regular file that this user may execute.
        case notExecutable
    }

    /// The search path used when `PATH` is unset.
    public static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// The file that would run for `program`, or why there is none.
    public static func locate(_ program: String, path: String?) -> Result<String, Problem> {
        if program.contains("/") {
            var status = stat()
            guard stat(program, &status) == 0 else { return .failure(.missing) }
            return isRunnable(program, status) ? .success(program) : .failure(.notExecutable)
        }
        let searched = path ?? defaultPath
        for directory in searched.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + (directory.hasSuffix("/") ? "" : "/") + program
            var status = stat()
            if stat(candidate, &status) == 0, isRunnable(candidate, status) { return .success(candidate) }
        }
        return .failure(.notOnPath(searched: searched))
    }

    /// This binary's real path, symlinks resolved (the kernel's `/proc/self/exe`).
    public static func runningExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func isRunnable(_ candidate: String, _ status: stat) -> Bool {
        status.st_mode & S_IFMT == S_IFREG && access(candidate, X_OK) == 0
    }
}
