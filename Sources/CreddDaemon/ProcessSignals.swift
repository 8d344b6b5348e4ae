import CGlibcGNU
import CreddCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The signals `credd run` answers (SIGHUP, SIGTERM, SIGINT), without libdispatch: its signal
/// sources start its worker pool, which then wakes every second for the life of the process.
/// A handler writes each signal's number to a pipe, and a thread of its own reads it.
/// One instance at a time: they share the process's signal pipe.
final class ProcessSignals: Sendable {
    let received: AsyncStream<Int32>
    private let signals: [Int32]
    private let writeEnd: Int32

    convenience init(_ signals: [Int32]) throws(DaemonError) {
        try self.init(signals, pipe: signalPipe, startThread: detachThread)
    }

    /// With a different pipe (nil: none could be made) and way to start the reading thread:
    /// tests use them to make each fail.
    init(_ signals: [Int32], pipe: SignalPipe?, startThread: (@escaping @Sendable () -> Void) -> Bool) throws(DaemonError) {
        guard let pipe else { throw DaemonError.configuration("signals: no pipe for them") }
        let (received, continuation) = AsyncStream.makeStream(of: Int32.self)
        let readEnd = pipe.readEnd
        let started = startThread {
            nameCurrentThread("credd-signals")
            var bytes = [UInt8](repeating: 0, count: 64)
            while true {
                let count = bytes.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                // 0 is stop()'s, never a signal's number.
                guard let end = bytes.prefix(count).firstIndex(of: 0) else {
                    for byte in bytes.prefix(count) { continuation.yield(Int32(byte)) }
                    continue
                }
                for byte in bytes.prefix(end) { continuation.yield(Int32(byte)) }
                break
            }
            continuation.finish()
        }
        guard started else { throw DaemonError.configuration("signals: no thread to receive them") }
        self.received = received
        self.signals = signals
        self.writeEnd = pipe.writeEnd
        signalWriteEnd.store(pipe.writeEnd, ordering: .releasing)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        for signal in signals { sigaction(signal, &action, nil) }
    }

    /// Ignores the signals from now on (the process is about to exit, and SIGHUP must never
    /// terminate it) and ends ``received``.
    func stop() {
        for signal in signals { Glibc.signal(signal, SIG_IGN) }
        var stop: UInt8 = 0
        _ = write(writeEnd, &stop, 1)
    }
}

/// The two ends of the process's signal pipe, kept open for the life of the process: a signal
/// handler must never write to a descriptor that may have been closed and reused.
struct SignalPipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32
}

private let signalPipe: SignalPipe? = {
    var ends: [Int32] = [-1, -1]
    guard pipe2(&ends, O_CLOEXEC) == 0 else { return nil }
    // A full pipe must not block the handler: the signals already queued will be answered.
    _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
    return SignalPipe(readEnd: ends[0], writeEnd: ends[1])
}()

/// Read by the handler, which must not run the lazy initialisation of `signalPipe`.
private let signalWriteEnd = Atomic<Int32>(-1)

private func forwardSignal(_ signal: Int32) {
    let savedErrno = errno
    var number = UInt8(truncatingIfNeeded: signal)
    _ = write(signalWriteEnd.load(ordering: .acquiring), &number, 1)
    errno = savedErrno
}
