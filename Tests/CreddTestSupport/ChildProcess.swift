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
        // Output goes to files, not pipes: nothing can block on a full pipe, and no reader
        // threads are needed.
        let directory = try TemporaryDirectory(prefix: "credd-child")
        try directory.write("stdin", stdin ?? "")
        let input = open(directory.file("stdin"), O_RDONLY)
        let out = open(directory.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let err = open(directory.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer {
            close(input)
            close(out)
            close(err)
        }
        let child = try SpawnedProcess(arguments, environment: environment, stdin: input, stdout: out, stderr: err)
        let status: Int32
        do {
            status = try child.wait(timeout: timeout)
        } catch {
            child.signal(SIGKILL)
            _ = try? child.wait(timeout: 5)
            throw TestSupportError("\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        return Output(
            status: status,
            stdout: (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "")
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
