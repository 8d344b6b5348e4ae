import CGlibcGNU
import CSystemd
import CreddPlatform
import Glibc
import Synchronization

/// A signal received from the bus: who sent it, what it is, its arguments.
public struct BusSignal: Sendable, Hashable {
    /// The sending connection's unique name (`:1.42`).
    public let sender: String
    public let path: String
    public let interface: String
    public let member: String
    public let arguments: [BusValue]
}

/// A client connection to one D-Bus bus through libsystemd's sd-bus.
///
/// sd-bus objects are not thread-safe, so one thread of its own owns the connection: it runs
/// queued calls, dispatches replies and signals, and otherwise sleeps in `poll` on the bus and a
/// wake-up pipe. Nothing here blocks the caller's executor. When the bus goes away, pending calls
/// fail with ``BusError/disconnected``, subscriptions end, and later calls fail at once.
public final class BusConnection: Sendable {
    private let shared: BusShared

    private init(shared: BusShared) {
        self.shared = shared
    }

    deinit {
        shared.close()
    }

    /// Connects to the bus at `address` (a D-Bus address such as `unix:path=/run/user/1000/bus`),
    /// as a client that says Hello, on a new thread named `name`.
    public static func open(address: String, threadName: String = "credd-bus") async throws(BusError) -> BusConnection {
        let opened: Result<BusShared, BusError> = await withCheckedContinuation { continuation in
            let started = detachThread {
                nameCurrentThread(threadName)
                BusLoop.run(address: address, opened: { continuation.resume(returning: $0) })
            }
            if !started { continuation.resume(returning: .failure(.noBus(address: address, reason: "no thread could be started"))) }
        }
        return BusConnection(shared: try opened.get())
    }

    /// Calls `member` of `interface` on `path` at `destination` and returns the reply's arguments.
    /// Fails with ``BusError/serviceMissing(_:)`` when nothing owns `destination`.
    public func call(
        destination: String, path: String, interface: String, member: String, arguments: [BusValue] = [],
        timeout: Duration = .seconds(25)
    ) async throws(BusError) -> [BusValue] {
        let reply: Result<[BusValue], BusError> = await withCheckedContinuation { continuation in
            let queued = shared.enqueue { loop in
                loop.call(
                    destination: destination, path: path, interface: interface, member: member, arguments: arguments,
                    timeout: timeout, reply: { continuation.resume(returning: $0) })
            }
            if !queued { continuation.resume(returning: .failure(.disconnected)) }
        }
        return try reply.get()
    }

    /// The signals matching `sender`, `path`, `interface` and `member` (`nil` matches any), from
    /// the moment the bus has confirmed the match: once this returns, none is missed. The stream
    /// ends when the connection closes.
    ///
    /// A well-known `sender` (`org.freedesktop.login1`) is checked against the name's current
    /// owner: any peer can send a signal straight to this connection, and neither the match rule
    /// nor sd-bus can tell it from the owner's (on the system bus, every user may send signals).
    public func signals(
        sender: String?, path: String?, interface: String?, member: String?
    ) async throws(BusError) -> AsyncStream<BusSignal> {
        let (stream, continuation) = AsyncStream.makeStream(of: BusSignal.self)
        let added: Result<Void, BusError> = await withCheckedContinuation { added in
            let queued = shared.enqueue { loop in
                added.resume(
                    returning: loop.subscribe(sender: sender, path: path, interface: interface, member: member, continuation: continuation))
            }
            if !queued { added.resume(returning: .failure(.disconnected)) }
        }
        do {
            try added.get()
        } catch {
            continuation.finish()
            throw error
        }
        guard let sender, !sender.hasPrefix(":") else { return stream }
        return AsyncStream { forwarded in
            let forwarding = Task {
                var owner: String?
                for await signal in stream {
                    // Asked again only when a signal comes from another connection: the owner may have restarted.
                    if signal.sender != owner { owner = try? await self.owner(of: sender) }
                    if signal.sender == owner { forwarded.yield(signal) }
                }
                forwarded.finish()
            }
            forwarded.onTermination = { _ in forwarding.cancel() }
        }
    }

    /// The unique name of the connection owning the well-known `name`.
    public func owner(of name: String) async throws(BusError) -> String? {
        try await call(
            destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "GetNameOwner",
            arguments: [.string(name)]
        ).first?.stringValue
    }

    /// ``signals(sender:path:interface:member:)`` decoded by `decode`; signals it cannot decode
    /// (`nil`) are skipped.
    public func signals<Decoded: Sendable>(
        sender: String?, path: String?, interface: String?, member: String?, decode: @escaping @Sendable (BusSignal) -> Decoded?
    ) async throws(BusError) -> AsyncStream<Decoded> {
        let signals = try await signals(sender: sender, path: path, interface: interface, member: member)
        return AsyncStream { continuation in
            let forwarding = Task {
                for await signal in signals {
                    if let decoded = decode(signal) { continuation.yield(decoded) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }

    /// Waits until the connection has closed, by ``close()`` or because the bus went away.
    public func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !shared.onClose({ continuation.resume() }) { continuation.resume() }
        }
    }

    /// Whether the connection is still open.
    public var isOpen: Bool { shared.isOpen }

    /// Closes the connection: pending calls fail with ``BusError/disconnected`` and signal
    /// streams end.
    public func close() {
        shared.close()
    }
}

/// What the caller's threads and the bus thread share: the queue of work for the bus thread,
/// the wake-up pipe, and whether the connection is still open.
final class BusShared: Sendable {
    private struct State {
        var jobs: [@Sendable (BusLoop) -> Void] = []
        var open = true
        var closeRequested = false
        var closeWaiters: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let wakeRead: CInt
    private let wakeWrite: CInt

    init(wakeRead: CInt, wakeWrite: CInt) {
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
    }

    var wakeDescriptor: CInt { wakeRead }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Queues `job` for the bus thread; false when the connection is closed.
    func enqueue(_ job: @escaping @Sendable (BusLoop) -> Void) -> Bool {
        let queued = state.withLock { state in
            guard state.open else { return false }
            state.jobs.append(job)
            return true
        }
        if queued { wake() }
        return queued
    }

    /// The queued jobs, or `nil` once ``close()`` was asked for.
    func takeJobs() -> [@Sendable (BusLoop) -> Void]? {
        state.withLock { state in
            guard !state.closeRequested else { return nil }
            defer { state.jobs = [] }
            return state.jobs
        }
    }

    func onClose(_ waiter: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.open else { return false }
            state.closeWaiters.append(waiter)
            return true
        }
    }

    /// Asks the bus thread to close the connection.
    func close() {
        state.withLock { $0.closeRequested = true }
        wake()
    }

    /// Marks the connection closed (the bus thread's last word): returns the jobs that never ran,
    /// for the thread to fail, and tells whoever waits for the close.
    func markClosed() -> [@Sendable (BusLoop) -> Void] {
        let (jobs, waiters) = state.withLock { state in
            state.open = false
            defer {
                state.jobs = []
                state.closeWaiters = []
            }
            return (state.jobs, state.closeWaiters)
        }
        waiters.forEach { $0() }
        return jobs
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Empties the wake-up pipe.
    func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }
}
