import CreddRefresh
import CreddRotation
import ServiceLifecycle

/// Scheduled rotation as one of the daemon's services: it starts once the engine's first pass
/// is over (renewals at start sign with the keys as loaded; rotating under them could delete the
/// key a first renewal is about to use) and reports each rotation to `observer`.
struct ScheduledRotation<Observer: RotationObserver>: Service {
    let scheduler: RotationScheduler
    let observer: Observer
    let engine: RefreshEngine

    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            await engine.waitForFirstPass()
            guard !Task.isCancelled else { return }
            await scheduler.run(observer: observer)
        }
    }
}
