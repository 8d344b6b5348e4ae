import CGlibcGNU
import CSystemd
import Glibc

/// The bus thread's side of a ``BusConnection``: owns the `sd_bus`, and is used only on that thread.
final class BusLoop {
    private let bus: OpaquePointer
    private let shared: BusShared
    /// Calls waiting for their reply, kept alive here; sd-bus holds them unretained.
    private var pendingCalls: [ObjectIdentifier: PendingCall] = [:]
    private var subscriptions: [Subscription] = []
    /// Set while the connection is torn down: jobs that run then fail at once.
    private var closed = false

    private init(bus: OpaquePointer, shared: BusShared) {
        self.bus = bus
        self.shared = shared
    }

    /// Connects to `address`, reports the outcome through `opened`, then serves the connection
    /// until it closes. Runs on the bus thread and returns when the connection is gone.
    static func run(address: String, opened: (Result<BusShared, BusError>) -> Void) {
        var pipe: [CInt] = [-1, -1]
        guard pipe2(&pipe, O_CLOEXEC | O_NONBLOCK) == 0 else {
            opened(.failure(.noBus(address: address, reason: "pipe2: \(String(cString: strerror(errno)))")))
            return
        }
        let shared = BusShared(wakeRead: pipe[0], wakeWrite: pipe[1])
        let bus: OpaquePointer
        switch connect(address: address) {
        case .success(let connected):
            bus = connected
        case .failure(let error):
            _ = shared.markClosed()
            opened(.failure(error))
            return
        }
        let loop = BusLoop(bus: bus, shared: shared)
        opened(.success(shared))
        loop.serve()
        loop.tearDown()
    }

    private static func connect(address: String) -> Result<OpaquePointer, BusError> {
        var created: OpaquePointer?
        var result = sd_bus_new(&created)
        guard result >= 0, let bus = created else { return .failure(.noBus(address: address, reason: errorText(result))) }
        result = sd_bus_set_address(bus, address)
        if result >= 0 { result = sd_bus_set_bus_client(bus, 1) }
        if result >= 0 { result = sd_bus_start(bus) }
        guard result >= 0 else {
            sd_bus_unref(bus)
            return .failure(.noBus(address: address, reason: errorText(result)))
        }
        return .success(bus)
    }

    private func serve() {
        while let jobs = shared.takeJobs() {
            for job in jobs { job(self) }
            var processed: CInt
            repeat { processed = sd_bus_process(bus, nil) } while processed > 0
            guard processed >= 0, sd_bus_is_open(bus) > 0 else { return }
            waitForWork()
        }
    }

    private func waitForWork() {
        let events = sd_bus_get_events(bus)
        var descriptors = [
            pollfd(fd: sd_bus_get_fd(bus), events: Int16(truncatingIfNeeded: max(events, 0)), revents: 0),
            pollfd(fd: shared.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        var timeoutMilliseconds: CInt = -1
        var deadline: UInt64 = 0
        if sd_bus_get_timeout(bus, &deadline) > 0, deadline != UInt64.max {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let nowMicroseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
            let remaining = deadline > nowMicroseconds ? (deadline - nowMicroseconds + 999) / 1000 : 0
            timeoutMilliseconds = CInt(clamping: remaining)
        }
        _ = poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
        if descriptors[1].revents != 0 { shared.drainWakeups() }
    }

    private func tearDown() {
        closed = true
        for job in shared.markClosed() { job(self) }
        for call in pendingCalls.values { call.reply(.failure(.disconnected)) }
        pendingCalls = [:]
        for subscription in subscriptions { subscription.end() }
        subscriptions = []
        sd_bus_flush_close_unref(bus)
    }

    func call(
        destination: String, path: String, interface: String, member: String, arguments: [BusValue], timeout: Duration,
        reply: @escaping @Sendable (Result<[BusValue], BusError>) -> Void
    ) {
        guard !closed else { return reply(.failure(.disconnected)) }
        var created: OpaquePointer?
        var result = sd_bus_message_new_method_call(bus, &created, destination, path, interface, member)
        guard result >= 0, let message = created else { return reply(.failure(.malformed("\(member): \(errorText(result))"))) }
        defer { sd_bus_message_unref(message) }
        do {
            for argument in arguments { try BusMessage.append(argument, to: message) }
        } catch {
            return reply(.failure(error))
        }
        let pending = PendingCall(destination: destination, reply: reply)
        let microseconds = UInt64(max(1, timeout.components.seconds * 1_000_000 + timeout.components.attoseconds / 1_000_000_000_000))
        result = sd_bus_call_async(
            bus, nil, message,
            { message, userdata, _ in
                guard let message, let userdata else { return 0 }
                Unmanaged<PendingCall>.fromOpaque(userdata).takeUnretainedValue().received(message)
                return 1
            }, Unmanaged.passUnretained(pending).toOpaque(), microseconds)
        guard result >= 0 else { return reply(.failure(Self.failure(result))) }
        pending.onReply = { [unowned self] call in pendingCalls[ObjectIdentifier(call)] = nil }
        pendingCalls[ObjectIdentifier(pending)] = pending
    }

    func subscribe(
        sender: String?, path: String?, interface: String?, member: String?, continuation: AsyncStream<BusSignal>.Continuation
    ) -> Result<Void, BusError> {
        guard !closed else { return .failure(.disconnected) }
        let subscription = Subscription(continuation: continuation)
        var slot: OpaquePointer?
        // Synchronous: the match is in force at the bus before the subscriber is told so.
        let result = sd_bus_match_signal(
            bus, &slot, sender, path, interface, member,
            { message, userdata, _ in
                guard let message, let userdata else { return 0 }
                Unmanaged<Subscription>.fromOpaque(userdata).takeUnretainedValue().received(message)
                return 0
            }, Unmanaged.passUnretained(subscription).toOpaque())
        guard result >= 0 else { return .failure(Self.failure(result)) }
        subscription.slot = slot
        subscriptions.append(subscription)
        return .success(())
    }

    private static func failure(_ result: CInt) -> BusError {
        switch -result {
        case ENOTCONN, ECONNRESET, EPIPE, ESHUTDOWN: .disconnected
        default: .callFailed(name: "sd-bus", message: errorText(result))
        }
    }
}

/// A call waiting for its reply on the bus thread.
private final class PendingCall {
    let destination: String
    private let deliver: @Sendable (Result<[BusValue], BusError>) -> Void
    var onReply: ((PendingCall) -> Void)?

    init(destination: String, reply: @escaping @Sendable (Result<[BusValue], BusError>) -> Void) {
        self.destination = destination
        self.deliver = reply
    }

    func received(_ message: OpaquePointer) {
        deliver(BusMessage.result(of: message, destination: destination))
        onReply?(self)
    }

    func reply(_ result: Result<[BusValue], BusError>) { deliver(result) }
}

/// A signal match on the bus thread, feeding one stream.
private final class Subscription {
    private let continuation: AsyncStream<BusSignal>.Continuation
    var slot: OpaquePointer?

    init(continuation: AsyncStream<BusSignal>.Continuation) {
        self.continuation = continuation
    }

    func received(_ message: OpaquePointer) {
        guard case .success(let arguments) = BusMessage.read(message) else { return }
        continuation.yield(
            BusSignal(
                sender: sd_bus_message_get_sender(message).map { String(cString: $0) } ?? "",
                path: sd_bus_message_get_path(message).map { String(cString: $0) } ?? "",
                interface: sd_bus_message_get_interface(message).map { String(cString: $0) } ?? "",
                member: sd_bus_message_get_member(message).map { String(cString: $0) } ?? "",
                arguments: arguments))
    }

    func end() {
        continuation.finish()
        slot = slot.flatMap { sd_bus_slot_unref($0) }
    }
}

/// `strerror` of a negative errno, as sd-bus returns them.
func errorText(_ result: CInt) -> String {
    String(cString: strerror(-result))
}
