import Glibc

/// Runs `body` on a new detached thread, for blocking work that must not occupy one of the few
/// threads of Swift's cooperative pool. Returns false, without running `body`, when no thread
/// could be started.
public func detachThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let work = Unmanaged.passRetained(DetachedWork(body))
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        Unmanaged<DetachedWork>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, work.toOpaque())
    guard started == 0 else {
        work.release()
        return false
    }
    pthread_detach(thread)
    return true
}

private final class DetachedWork: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
