import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Everything that asks for a config reload: an edit to a watched file (inotify) or SIGHUP
/// (``hangup()``, from the daemon's signal handling).
/// Bursts are coalesced: an editor's save or credd's own rewrite becomes one reload.
///
/// Only SIGHUP is a reload *request* in systemd's sense (it answers with `RELOADING=1`); file
/// events are frequent (every rewrite of `~/.aws/credentials` by any program) and mostly change
/// nothing credd uses, so they reload quietly.
final class ReloadTriggers: Sendable {
    static let settleTime: Duration = .milliseconds(300)

    let events: AsyncStream<Void>
    private let watcher: Mutex<FileWatcher?>
    private let hangupPending = Atomic<Bool>(false)
    private let request: AsyncStream<Void>.Continuation
    private let logger: Logger
    private let forwarding: Task<Void, Never>

    init(watching paths: [String], logger: Logger) {
        let (events, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (raw, rawContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.events = events

        var watcher: FileWatcher?
        do {
            watcher = try FileWatcher(paths: paths, logger: logger)
        } catch {
            logger.warning("config files are not watched (\(error)); send SIGHUP to reload")
        }
        if let changes = watcher?.changes {
            Task {
                for await _ in changes { rawContinuation.yield() }
            }
        }
        self.watcher = Mutex(watcher)

        self.request = rawContinuation
        self.logger = logger

        self.forwarding = Task {
            for await _ in raw {
                try? await Task.sleep(for: Self.settleTime)
                continuation.yield()
            }
            continuation.finish()
        }
    }

    /// SIGHUP arrived: a reload that answers it.
    func hangup() {
        logger.info("SIGHUP: reloading the config")
        hangupPending.store(true, ordering: .releasing)
        request.yield()
    }

    /// Whether a SIGHUP arrived since the last call: the reload about to run answers it.
    func takeHangupRequest() -> Bool {
        hangupPending.exchange(false, ordering: .acquiringAndReleasing)
    }

    func stop() {
        watcher.withLock { $0?.stop() }
        forwarding.cancel()
    }
}
