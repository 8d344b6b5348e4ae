import CreddPlatform
import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization

/// Everything that asks for a config reload: an edit to a watched file (inotify, started by
/// `run()`) or SIGHUP (``hangup()``, from `SignalHandling`). `run()` performs each reload.
/// Bursts are coalesced: an editor's save or credd's own rewrite becomes one reload.
///
/// Only SIGHUP is a reload *request* in systemd's sense (it answers with `RELOADING=1`); file
/// events are frequent (every rewrite of `~/.aws/credentials` by any program) and mostly change
/// nothing credd uses, so they reload quietly.
final class ReloadTriggers: Service {
    /// Performs one reload; `answersHangup` when it answers a SIGHUP.
    typealias Reload = @Sendable (_ answersHangup: Bool) async -> Void

    static let settleTime: Duration = .milliseconds(300)

    private let paths: [String]
    /// The files as the config in force was read: an edit made before the watch began is
    /// reloaded as soon as it begins.
    private let loaded: FileStamps?
    private let reload: Reload
    private let logger: Logger
    private let hangupPending = Atomic<Bool>(false)
    private let requests: AsyncStream<Void>
    private let request: AsyncStream<Void>.Continuation

    init(watching paths: [String], asLoaded loaded: FileStamps? = nil, logger: Logger, reload: @escaping Reload) {
        self.paths = paths
        self.loaded = loaded
        self.reload = reload
        self.logger = logger
        (requests, request) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// SIGHUP arrived: a reload that answers it.
    func hangup() {
        logger.info("SIGHUP: reloading the config")
        hangupPending.store(true, ordering: .releasing)
        request.yield()
    }

    /// Watches the files and reloads after each burst of requests, until cancelled or a graceful
    /// shutdown begins.
    func run() async {
        let watcher: FileWatcher?
        do {
            watcher = try FileWatcher(paths: paths, logger: logger)
        } catch {
            logger.warning("config files are not watched (\(error)); send SIGHUP to reload")
            watcher = nil
        }
        if let loaded, loaded != FileStamps(of: paths) {
            logger.info("a config file changed while credd started: reloading")
            request.yield()
        }
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                if let changes = watcher?.changes {
                    group.addTask { for await _ in changes { self.request.yield() } }
                }
                for await _ in requests {
                    // Requests that arrive meanwhile coalesce into the one buffered next.
                    try? await EventLoopClock().sleep(for: Self.settleTime)
                    guard !Task.isCancelled else { break }
                    await reload(hangupPending.exchange(false, ordering: .acquiringAndReleasing))
                }
                group.cancelAll()
            }
        }
        watcher?.stop()
    }
}
