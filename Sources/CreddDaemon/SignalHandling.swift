import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon's signals: SIGHUP asks for a reload; SIGTERM and SIGINT end `run()`, which the
/// daemon's service group takes as the start of its graceful shutdown.
///
/// The signals are trapped before the other services start (`UnixSignalsSequence(trapping:)` in
/// `Daemon.run`), so that SIGTERM shuts down gracefully from then on: ServiceGroup's own signal
/// handling would begin only in its `run()`.
struct SignalHandling: Service {
    let signals: UnixSignalsSequence
    let reloads: ReloadTriggers
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            for await signal in signals {
                if signal == .sighup {
                    reloads.hangup()
                } else {
                    logger.info("\(signal): shutting down")
                    return
                }
            }
        }
    }
}
