import Dispatch
import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tells when any of a set of files changes, with inotify on their directories: editors and
/// credd itself replace files by rename, which a watch on the file alone would miss.
/// Changes are debounced so an editor's burst of writes becomes one reload.
final class FileWatcher: Sendable {
    /// Dispatch sources are not Sendable; the mutex makes `stop()` safe from any task.
    private let source: Mutex<(any DispatchSourceRead)?>
    let changes: AsyncStream<Void>

    init(paths: [String], logger: Logger) throws(DaemonError) {
        let fd = inotify_init1(CInt(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw DaemonError.configuration("inotify: \(String(cString: strerror(errno)))") }
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
        self.changes = stream
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: DispatchQueue(label: "credd.inotify"))
        let relevant = names
        source.setEventHandler {
            if Self.drainEvents(fd, relevant: relevant) { continuation.yield() }
        }
        source.setCancelHandler {
            continuation.finish()
            close(fd)
        }
        source.resume()
        self.source = Mutex(source)
    }

    func stop() {
        source.withLock { $0?.cancel() }
    }

    /// Reads every pending event; true if one concerned a watched file.
    private static func drainEvents(_ fd: CInt, relevant: [CInt: Set<String>]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var matched = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return matched }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let (watch, nameLength) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: CInt.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameStart = offset + headerSize
                let nameBytes = buffer[nameStart..<min(nameStart + nameLength, count)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                if relevant[watch]?.contains(name) == true { matched = true }
                offset = nameStart + nameLength
            }
        }
    }
}
