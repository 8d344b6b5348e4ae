import Foundation

/// Runs a program to completion with a bounded wait, capturing its output. For driving real
/// peers (the credd binary, the AWS CLI, python3 with boto3) from tests.
public struct ChildProcess: Sendable {
    public struct Output: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Runs `arguments` (looked up on PATH when not absolute) with `environment`.
    /// Kills the process and throws if it has not finished after `timeout` seconds.
    public static func run(
        _ arguments: [String], environment: [String: String], stdin: String? = nil, timeout: TimeInterval = 120
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = SignalMask.resettingPrefix + arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()

        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let collected = OutputCollector()
        let group = DispatchGroup()
        for (handle, isError) in [(out.fileHandleForReading, false), (err.fileHandleForReading, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.store(data, isError: isError)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            _ = group.wait(timeout: .now() + 5)
            throw TestSupportError("\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        _ = group.wait(timeout: .now() + 10)
        return Output(status: process.terminationStatus, stdout: collected.text(isError: false), stderr: collected.text(isError: true))
    }

    /// ``run(_:environment:stdin:timeout:)`` from async code: the wait happens on a dedicated
    /// thread, so it never holds a cooperative-pool thread that an in-process server needs.
    public static func runOnDedicatedThread(
        _ arguments: [String], environment: [String: String], stdin: String? = nil, timeout: TimeInterval = 120
    ) async throws -> Output {
        try await onDedicatedThread { () throws -> Output in
            try run(arguments, environment: environment, stdin: stdin, timeout: timeout)
        }
    }

    /// The first executable called `name` on PATH, if any.
    public static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

private final class OutputCollector: @unchecked Sendable {
    // Guarded by `lock`: written from two reader queues, read after both finish.
    private let lock = NSLock()
    private var stdout = Data()
    private var stderr = Data()

    func store(_ data: Data, isError: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if isError { stderr = data } else { stdout = data }
    }

    func text(isError: Bool) -> String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: isError ? stderr : stdout, as: UTF8.self)
    }
}

/// Foundation's `Process` passes the spawning thread's signal mask on to the child, and test
/// runner threads may block SIGTERM; a daemon started that way would never see its stop signal.
/// Children are started through this prefix, which clears the mask as systemd does.
enum SignalMask {
    static let resettingPrefix = [
        "python3", "-c",
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])",
    ]
}
