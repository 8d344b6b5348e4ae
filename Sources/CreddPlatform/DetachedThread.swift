import CGlibcGNU
import Glibc

/// Runs `body` on a new detached thread, for blocking work that must not occupy one of the few
/// threads of the executor. Returns false, without running `body`, when no thread could be
/// started. The thread is named `credd-thread` until `body` names it (``nameCurrentThread(_:)``):
/// by default a thread takes its creator's name.
public func detachThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let work = Unmanaged.passRetained(DetachedWork(body))
    var thread = pthread_t()
    let started = pthread_create(
        &thread, nil,
        { context in
            guard let context else { return nil }
            nameCurrentThread("credd-thread")
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

/// Names the calling thread as `/proc/PID/task/*/comm` shows it; the kernel refuses names
/// longer than 15 bytes.
public func nameCurrentThread(_ name: String) {
    _ = pthread_setname_np(pthread_self(), name)
}

private final class DetachedWork: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
