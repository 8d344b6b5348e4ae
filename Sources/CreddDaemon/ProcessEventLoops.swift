import NIOCore

/// How many NIO event loops the process runs: the endpoint, the control socket and the STS client
/// share NIO's singleton group.
public enum ProcessEventLoops {
    /// One. It serves some 50,000 credential requests a second, far more than one user's SDKs ask
    /// for, and leaves the other cores to them: with a loop per core, the endpoint competed with
    /// its clients for the CPU, spent more of it per request and gave them a longer latency tail
    /// (BENCHMARKS.md, "One event loop"). Must run before anything uses the singleton group.
    public static func useOneLoop() {
        NIOSingletons.groupLoopCountSuggestion = 1
    }
}
