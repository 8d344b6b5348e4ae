import CreddCore
import CreddTestSupport
import Foundation
import Glibc
import Logging
import Testing

@testable import CreddDaemon

/// SIGUSR1/SIGUSR2 stand in for SIGHUP/SIGTERM: the test process must not reload or stop.
@Suite("Process signals", .serialized, .timeLimit(.minutes(1)))
struct ProcessSignalsTests {
    @Test("each signal arrives once on the stream; stop() ends it and ignores the signals")
    func receivesUntilStopped() async throws {
        let signals = try ProcessSignals([SIGUSR1, SIGUSR2])
        var received = signals.received.makeAsyncIterator()
        kill(getpid(), SIGUSR1)
        #expect(await received.next() == SIGUSR1)
        kill(getpid(), SIGUSR2)
        #expect(await received.next() == SIGUSR2)
        signals.stop()
        #expect(await received.next() == nil)
        // Ignored from now on: it would otherwise terminate the test process.
        kill(getpid(), SIGUSR1)
    }

    @Test("a second instance after the first stopped gets the signals")
    func oneAfterAnother() async throws {
        for _ in 0..<2 {
            let signals = try ProcessSignals([SIGUSR2])
            var received = signals.received.makeAsyncIterator()
            kill(getpid(), SIGUSR2)
            #expect(await received.next() == SIGUSR2)
            signals.stop()
            #expect(await received.next() == nil)
        }
    }

    @Test("fails without a pipe")
    func noPipe() {
        #expect(throws: DaemonError.configuration("signals: no pipe for them")) {
            try ProcessSignals([SIGUSR1], pipe: nil, startThread: detachThread)
        }
    }

    @Test("fails when its thread cannot start, before handling any signal")
    func noThread() {
        #expect(throws: DaemonError.configuration("signals: no thread to receive them")) {
            try ProcessSignals([SIGUSR1], pipe: SignalPipe(readEnd: -1, writeEnd: -1), startThread: { _ in false })
        }
    }
}

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
