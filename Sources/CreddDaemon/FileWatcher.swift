import CreddCore
import CreddPlatform
import FoundationEssentials
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when any of a set of files changes, with inotify on their directories: editors and
/// credd itself replace files by rename, which a watch on the file alone would miss.
/// Changes are debounced so an editor's burst of writes becomes one reload. A thread of its
/// own blocks reading the inotify descriptor, so waiting costs no CPU.
final class FileWatcher: Sendable {
    private struct State {
        var watches: [CInt]
        var stopped = false
    }

    private let descriptor: SharedDescriptor
    private let state: Mutex<State>
    private let finish: @Sendable () -> Void
    let changes: AsyncStream<Void>

    convenience init(paths: [String], logger: Logger) throws(DaemonError) {
        try self.init(paths: paths, logger: logger, startThread: detachThread)
    }

    /// With a different way to start the reading thread: tests use it to make starting fail.
    init(paths: [String], logger: Logger, startThread: (@escaping @Sendable () -> Void) -> Bool) throws(DaemonError) {
        let fd = inotify_init1(CInt(IN_CLOEXEC))
        guard fd >= 0 else { throw DaemonError.configuration("inotify: \(String(cString: strerror(errno)))") }
        let descriptor = SharedDescriptor(fd)
        var names: [CInt: Set<String>] = [:]
        var byDirectory: [String: Set<String>] = [:]
        for path in paths {
            let url = URL(fileURLWithPath: path)
            byDirectory[url.deletingLastPathComponent().path, default: []].insert(url.lastPathComponent)
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
        for (directory, files) in byDirectory {
            let watch = inotify_add_watch(fd, directory, mask)
            if watch < 0 {
                // A missing directory (no ~/.aws yet) is not fatal: SIGHUP still reloads.
                logger.info("not watching \(directory): \(String(cString: strerror(errno)))")
                continue
            }
            names[watch, default: []].formUnion(files)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.descriptor = descriptor
        self.state = Mutex(State(watches: Array(names.keys)))
        self.changes = stream
        self.finish = { continuation.finish() }
        // Without a watch nothing can arrive, and nothing could end the thread's read.
        guard !names.isEmpty else { return }
        let relevant = names
        let started = startThread { [self] in
            nameCurrentThread("credd-inotify")
            while let events = Self.readEvents(descriptor.value, relevant: relevant) {
                // A watch ends with its directory (or with stop()); with none left, nothing can arrive.
                let ended = state.withLock { state in
                    state.watches.removeAll { events.removedWatches.contains($0) }
                    return state.stopped || state.watches.isEmpty
                }
                if ended { break }
                if events.matched { continuation.yield() }
            }
            continuation.finish()
        }
        guard started else { throw DaemonError.configuration("inotify: no thread to read it") }
    }

    /// Ends the stream of changes. Removing the watches queues an `IN_IGNORED` event for each,
    /// which ends the thread's read.
    func stop() {
        let watches = state.withLock { state -> [CInt] in
            guard !state.stopped else { return [] }
            state.stopped = true
            return state.watches
        }
        if watches.isEmpty { finish() }
        for watch in watches { inotify_rm_watch(descriptor.value, watch) }
    }

    private struct Events {
        /// One concerned a watched file.
        var matched = false
        /// Watches the kernel has ended (`IN_IGNORED`).
        var removedWatches: [CInt] = []
    }

    /// Blocks for the next events and reads them; nil when the descriptor cannot be read any more.
    private static func readEvents(_ fd: CInt, relevant: [CInt: Set<String>]) -> Events? {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return count < 0 && errno == EINTR ? Events() : nil }
        var events = Events()
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= count {
            let (watch, mask, nameLength) = buffer.withUnsafeBytes { raw in
                (
                    raw.loadUnaligned(fromByteOffset: offset, as: CInt.self),
                    raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                    Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                )
            }
            let nameStart = offset + headerSize
            let nameBytes = buffer[nameStart..<min(nameStart + nameLength, count)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            if relevant[watch]?.contains(name) == true { events.matched = true }
            if mask & UInt32(IN_IGNORED) != 0 { events.removedWatches.append(watch) }
            offset = nameStart + nameLength
        }
        return events
    }
}
