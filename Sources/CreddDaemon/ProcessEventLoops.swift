import CConcurrencyHook
import NIOCore
import NIOPosix

/// The process's NIO event loops, which also run Swift concurrency: the endpoint, the control
/// socket, the STS client and every task share NIO's singleton group.
public enum ProcessEventLoops {
    /// Makes NIO's singleton group of one loop Swift concurrency's global executor, so that tasks
    /// and NIO's channels run on the same thread without hops between them. Call it first thing
    /// in `main`, on the main thread, before any task starts; never in a test process.
    ///
    /// One loop serves some 50,000 credential requests a second, far more than one user's SDKs
    /// ask for, and leaves the other cores to them: with a loop per core, the endpoint competed
    /// with its clients for the CPU. Blocking work (flock, fsync, waiting for a child) runs off
    /// the loop: ``SerialBlockingWork`` and threads of its own.
    public static func install() {
        NIOSingletons.groupLoopCountSuggestion = 1
        if !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            installThroughLinkedHook()
        }
    }

    /// What NIO's install does once dlsym has found the hook, for the static binary, where dlsym
    /// cannot find it: without this, every task would run on libdispatch's worker threads, and
    /// the first would start libdispatch's 1-second pool monitor (docs/decisions/0001).
    private static func installThroughLinkedHook() {
        typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let slot = credd_enqueueGlobalHook()
        guard slot.pointee == nil else { return }
        withUnsafeTemporaryAllocation(of: Hook.self, capacity: 1) { hook in
            guard let function = hook.baseAddress else { return }
            function.initialize(to: { job, _ in MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(ExecutorJob(job)) })
            // A thin function is one code pointer, which is what the runtime calls.
            slot.pointee = function.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { $0.pointee }
        }
    }
}
