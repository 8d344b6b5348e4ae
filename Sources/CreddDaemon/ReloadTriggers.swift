import Dispatch
import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Everything that asks for a config reload: an edit to a watched file (inotify) or SIGHUP.
/// Bursts are coalesced: an editor's save or credd's own rewrite becomes one reload.
///
/// Only SIGHUP is a reload *request* in systemd's sense (it answers with `RELOADING=1`); file
/// events are frequent (every rewrite of `~/.aws/credentials` by any program) and mostly change
/// nothing credd uses, so they reload quietly.
final class ReloadTriggers: Sendable {
    static let settleTime: Duration = .milliseconds(300)

    let events: AsyncStream<Void>
    private let watcher: Mutex<FileWatcher?>
    private let hangup: Mutex<(any DispatchSourceSignal)?>
    private let hangupPending = Flag()
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

        // SIGHUP reloads; it must never terminate the daemon.
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "credd.sighup"))
        source.setEventHandler { [hangupPending] in
            logger.info("SIGHUP: reloading the config")
            hangupPending.value.store(true, ordering: .releasing)
            rawContinuation.yield()
        }
        source.resume()
        self.hangup = Mutex(source)

        self.forwarding = Task {
            for await _ in raw {
                try? await Task.sleep(for: Self.settleTime)
                continuation.yield()
            }
            continuation.finish()
        }
    }

    /// Whether a SIGHUP arrived since the last call: the reload about to run answers it.
    func takeHangupRequest() -> Bool {
        hangupPending.value.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// A reference to the flag, so the signal handler can hold it before `self` exists.
    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    func stop() {
        watcher.withLock { $0?.stop() }
        hangup.withLock { $0?.cancel() }
        forwarding.cancel()
    }
}
