import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import CreddDaemon

@Suite("File watcher", .timeLimit(.minutes(1)))
struct FileWatcherTests {
    static let logger = Logger(label: "test")

    @Test("a rename over a watched file is a change; stop() ends the stream")
    func changeThenStop() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "a")
        let watcher = try FileWatcher(paths: [path], logger: Self.logger)
        var changes = watcher.changes.makeAsyncIterator()
        _ = try directory.write("config.new", "b")
        rename(directory.file("config.new"), path)
        #expect(await changes.next() != nil)
        watcher.stop()
        #expect(await changes.next() == nil)
    }

    @Test("with no directory to watch, stop() still ends the stream")
    func nothingWatched() async throws {
        let watcher = try FileWatcher(paths: ["/nonexistent-credd-test/config"], logger: Self.logger)
        watcher.stop()
        var changes = watcher.changes.makeAsyncIterator()
        #expect(await changes.next() == nil)
    }

    @Test("the stream ends by itself when the watched directory goes")
    func directoryRemoved() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("config", "a")
        let watcher = try FileWatcher(paths: [path], logger: Self.logger)
        directory.remove()
        var changes = watcher.changes.makeAsyncIterator()
        while await changes.next() != nil {}
        watcher.stop()
    }

    @Test("fails when its thread cannot start")
    func noThread() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "a")
        #expect(throws: DaemonError.configuration("inotify: no thread to read it")) {
            try FileWatcher(paths: [path], logger: Self.logger, startThread: { _ in false })
        }
    }
}

@Suite("Reload triggers", .timeLimit(.minutes(1)))
struct ReloadTriggersTests {
    @Test("file stamps tell a truncation, a same-size rewrite, a removal and a creation from no change")
    func fileStamps() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "[credd]\n")
        let missing = directory.file("credentials")
        let before = FileStamps(of: [path, missing])
        #expect(FileStamps(of: [path, missing]) == before)
        close(open(path, O_WRONLY | O_TRUNC | O_CLOEXEC))
        let truncated = FileStamps(of: [path, missing])
        #expect(truncated != before)
        _ = try directory.write("config", "[credd]\n")
        let rewritten = FileStamps(of: [path, missing])
        #expect(rewritten != truncated)
        _ = try directory.write("config", "[cre]\n\n\n")
        #expect(FileStamps(of: [path, missing]) != rewritten, "same size, later change time")
        _ = try directory.write("credentials", "")
        #expect(FileStamps(of: [path, missing]) != FileStamps(of: [path]))
        unlink(missing)
        unlink(path)
        #expect(FileStamps(of: [path, missing]) == FileStamps(of: []))
    }

    /// Each reload's `answersHangup`, in order.
    private final class Reloads: Sendable {
        private let recorded = Mutex<[Bool]>([])
        var all: [Bool] { recorded.withLock { $0 } }
        func append(_ answersHangup: Bool) { recorded.withLock { $0.append(answersHangup) } }
    }

    /// Runs `triggers` until the returned task is cancelled; `reloads` records each reload.
    private static func start(_ paths: [String], asLoaded loaded: FileStamps?, reloads: Reloads) -> (ReloadTriggers, Task<Void, Never>) {
        let triggers = ReloadTriggers(watching: paths, asLoaded: loaded, logger: FileWatcherTests.logger) { answersHangup in
            reloads.append(answersHangup)
        }
        return (triggers, Task { await triggers.run() })
    }

    @Test("a config edited between the start's read and the watch is reloaded once the watch begins")
    func editBeforeTheWatchIsReloaded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "")
        let loaded = FileStamps(of: [path])
        _ = try directory.write("config", "[credd]\n")
        let reloads = Reloads()
        let (_, running) = Self.start([path], asLoaded: loaded, reloads: reloads)
        try await eventually("a reload", timeout: .seconds(10)) { reloads.all == [false] }
        running.cancel()
        await running.value
    }

    @Test("with nothing changed since the start's read, the first reload is the one asked for")
    func noEditNoReload() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("config", "[credd]\n")
        let reloads = Reloads()
        let (triggers, running) = Self.start([path], asLoaded: FileStamps(of: [path]), reloads: reloads)
        // Longer than a reload's settle time: a reload of its own would have happened by now.
        try await Task.sleep(for: ReloadTriggers.settleTime * 3)
        #expect(reloads.all.isEmpty)
        triggers.hangup()
        try await eventually("the SIGHUP's reload", timeout: .seconds(10)) { reloads.all == [true] }
        running.cancel()
        await running.value
    }
}
