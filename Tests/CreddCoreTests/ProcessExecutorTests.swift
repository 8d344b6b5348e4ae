import Foundation
import Glibc
import Synchronization
import Testing

@testable import CreddCore

@Suite("Delayed jobs", .timeLimit(.minutes(1)))
struct DelayedJobsTests {
    @Test("releases jobs in the order of their deadlines, and in arrival order for equal ones")
    func deadlineOrder() async throws {
        let released = Recorder<Int>()
        let jobs = try DelayedJobs<Int> { released.append($0) }
        defer { jobs.close() }
        jobs.schedule(3, after: .milliseconds(60))
        jobs.schedule(1, after: .milliseconds(20))
        jobs.schedule(2, after: .milliseconds(40))
        jobs.schedule(4, after: .milliseconds(40))
        #expect(try await eventually { released.all.count == 4 })
        #expect(released.all == [1, 2, 4, 3])
    }

    @Test("a job due earlier than the one the timer waits for is released at its own time")
    func earlierJobRearms() async throws {
        let released = Recorder<String>()
        let jobs = try DelayedJobs<String> { released.append($0) }
        defer { jobs.close() }
        jobs.schedule("late", after: .seconds(3600))
        let start = ContinuousClock.now
        jobs.schedule("soon", after: .milliseconds(30))
        #expect(try await eventually { !released.all.isEmpty })
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        #expect(released.all == ["soon"])
    }

    @Test("a delay that is not positive releases the job at once", arguments: [Duration.zero, .seconds(-5)])
    func noDelay(delay: Duration) async throws {
        let released = Recorder<Int>()
        let jobs = try DelayedJobs<Int> { released.append($0) }
        defer { jobs.close() }
        jobs.schedule(1, after: delay)
        #expect(try await eventually { released.all == [1] })
    }

    @Test("after close, jobs are dropped")
    func closed() async throws {
        let released = Recorder<Int>()
        let jobs = try DelayedJobs<Int> { released.append($0) }
        jobs.schedule(1, after: .milliseconds(10))
        jobs.close()
        jobs.schedule(2, after: .zero)
        try await Task.sleep(for: .milliseconds(50))
        #expect(released.all.isEmpty)
    }

    @Test("fails when its thread cannot start")
    func threadFails() {
        #expect(throws: ExecutorStartError(call: "pthread_create", errno: EAGAIN)) {
            try DelayedJobs<Int>(startThread: { _ in false }) { _ in }
        }
    }
}

@Suite("Thread pool executor", .timeLimit(.minutes(1)))
struct ThreadPoolExecutorTests {
    @Test("runs tasks on its own named threads, across a Task.sleep")
    func runsTasks() async throws {
        let pool = try ThreadPoolExecutor(threadCount: 2)
        defer { pool.shutDown() }
        let start = ContinuousClock.now
        let names = await Task(executorPreference: pool) {
            let before = currentThreadName()
            try? await Task.sleep(for: .milliseconds(20))
            return [before, currentThreadName()]
        }.value
        #expect(ContinuousClock.now - start >= .milliseconds(20))
        #expect(names.allSatisfy { $0.hasPrefix("credd-worker-") }, "\(names)")
    }

    @Test("sleeps end in the order of their deadlines")
    func sleepOrder() async throws {
        let pool = try ThreadPoolExecutor(threadCount: 2)
        defer { pool.shutDown() }
        let woke = Recorder<Int>()
        // Deadlines from one instant, far enough apart that when each task starts does not matter.
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for milliseconds in [600, 200, 400] {
                group.addTask(executorPreference: pool) {
                    try? await Task.sleep(until: start + .milliseconds(milliseconds), clock: .continuous)
                    woke.append(milliseconds)
                }
            }
        }
        #expect(woke.all == [200, 400, 600])
    }

    @Test("many tasks on few threads all run", arguments: [1, 3])
    func manyTasks(threads: Int) async throws {
        let pool = try ThreadPoolExecutor(threadCount: threads)
        defer { pool.shutDown() }
        let sum = await withTaskGroup(of: Int.self) { group in
            for value in 1...1000 {
                group.addTask(executorPreference: pool) { value }
            }
            return await group.reduce(0, +)
        }
        #expect(sum == 500_500)
    }

    @Test("fails when a thread cannot start", arguments: [0, 1, 2])
    func threadFails(successes: Int) {
        #expect(throws: ExecutorStartError(call: "pthread_create", errno: EAGAIN)) {
            try ThreadPoolExecutor(threadCount: 2, startThread: threadStarter(failingAfter: successes))
        }
    }

    @Test("the start error names the call and the reason")
    func errorDescription() {
        #expect("\(ExecutorStartError(call: "pthread_create", errno: EAGAIN))" == "pthread_create failed: Resource temporarily unavailable")
    }
}

@Suite("Main thread executor", .timeLimit(.minutes(1)))
struct MainThreadExecutorTests {
    /// An actor isolated to a `MainThreadExecutor`.
    actor Probe {
        nonisolated let executor: MainThreadExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

        init(executor: MainThreadExecutor) { self.executor = executor }

        func threadName() -> String {
            executor.checkIsolated()
            return currentThreadName()
        }
    }

    @Test("runs the actor's jobs on the thread in run() until stop()")
    func runsUntilStopped() async throws {
        let executor = MainThreadExecutor()
        let ended = Flag()
        let started = detachThread {
            nameCurrentThread("test-main")
            executor.run()
            ended.set()
        }
        #expect(started)
        let probe = Probe(executor: executor)
        #expect(await probe.threadName() == "test-main")
        #expect(await probe.threadName() == "test-main")
        executor.stop()
        #expect(try await eventually { ended.isSet })
    }
}

@Suite("Thread pool executor under load", .timeLimit(.minutes(2)))
struct ThreadPoolExecutorLoadTests {
    actor Counter {
        var value = 0
        func increment() { value += 1 }
    }

    @Test("tasks that sleep, hop to an actor and are resumed from other threads all finish")
    func mixedLoad() async throws {
        let pool = try ThreadPoolExecutor(threadCount: 2)
        defer { pool.shutDown() }
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<200 {
                group.addTask(executorPreference: pool) {
                    for step in 0..<20 {
                        try? await Task.sleep(for: .microseconds((task * 7 + step * 13) % 2000))
                        await counter.increment()
                        await withCheckedContinuation { continuation in
                            if !detachThread({ continuation.resume() }) { continuation.resume() }
                        }
                    }
                }
            }
        }
        #expect(await counter.value == 4000)
    }
}
