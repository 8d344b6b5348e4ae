@_spi(ExperimentalCustomExecutors) import _Concurrency
import Glibc

/// Runs `body`, the whole program, with credd's own executors as Swift concurrency's default
/// and main executors, so that the process never starts a libdispatch worker thread (they arm
/// a 1 Hz timer that runs for the life of the process). Call it first thing in `main`, on the
/// main thread, which then serves the main actor. Exits with status 0 when `body` returns.
///
/// If the worker threads cannot be started, the default executor stays libdispatch's.
public func runOnProcessExecutors(_ body: @escaping @Sendable () async -> Void) -> Never {
    _createExecutors(factory: ProcessExecutorFactory.self)
    Task.detached {
        await body()
        exit(EXIT_SUCCESS)
    }
    processMainExecutor.run()
    exit(EXIT_SUCCESS)
}

/// Created on first use, which `_createExecutors` makes.
private let processMainExecutor = MainThreadExecutor()
private let processPool = try? ThreadPoolExecutor(threadCount: ThreadPoolExecutor.defaultThreadCount)

/// The executors `_createExecutors` installs (`ExecutorFactory`, from the pitched custom main and
/// global executors proposal: an SPI in Swift 6.3, pinned by the toolchain this builds with).
private struct ProcessExecutorFactory: ExecutorFactory {
    static var mainExecutor: any MainExecutor { processMainExecutor }
    static var defaultExecutor: any TaskExecutor { processPool ?? PlatformExecutorFactory.defaultExecutor }
}
