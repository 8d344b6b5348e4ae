import CreddSTS
import Foundation
import Glibc

/// An in-process moto server on 127.0.0.1, started by python on a port the kernel picks and
/// killed when the test ends. It exits by itself if the test process dies first.
final class MotoServer {
    static var available: Bool {
        guard let python = which("python3") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import moto.server, boto3"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    private static let launcher = #"""
        import os, sys, time
        from moto.server import ThreadedMotoServer
        parent = os.getppid()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(server.get_host_and_port()[1]))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        while os.getppid() == parent:
            time.sleep(0.5)
        """#

    let endpoint: URL
    private let process: Process

    init(directory: String) async throws {
        let portFile = directory + "/moto.port"
        let log = directory + "/moto.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.which("python3") ?? "/usr/bin/python3")
        process.arguments = ["-c", Self.launcher, portFile]
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var port: String?
        for _ in 0..<300 where port == nil && process.isRunning {
            port = try? String(contentsOfFile: portFile, encoding: .utf8)
            if port == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let port, let url = URL(string: "http://127.0.0.1:\(port)") else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw StartFailure(output: String(output.suffix(800)))
        }
        endpoint = url
    }

    struct StartFailure: Error, CustomStringConvertible {
        let output: String
        var description: String { "moto did not start: \(output)" }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
