#if canImport(Glibc)
    import Glibc
#endif

/// Where plain log lines go. Injected so tests capture lines instead of writing to stderr.
public protocol LogLineOutput: Sendable {
    /// Writes one complete line (the newline is added here).
    func write(line: String)
}

/// Standard error, one `write(2)` per line so lines from concurrent tasks never interleave.
public struct StandardErrorOutput: LogLineOutput {
    public init() {}

    public func write(line: String) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(STDERR_FILENO, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                // stderr is gone (closed pipe): there is nowhere left to report this.
                return
            }
        }
    }
}
