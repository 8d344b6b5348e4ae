import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Logging
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
