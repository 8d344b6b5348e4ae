import CreddTestSupport
import Foundation
import Testing

@testable import CreddSystemd

/// systemd's own checker over the installed units. `systemd-analyze verify` exits 0 on some
/// problems, so any output at all fails the test.
@Suite("systemd-analyze")
struct UnitFileVerificationTests {
    static let analyze = "/usr/bin/systemd-analyze"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze not installed"))
    func verifyReportsNothing() throws {
        try withInstalledUnits { written, environment in
            let result = try run(Self.analyze, ["verify", "--user", "--no-pager"] + written.map(\.path), environment)
            #expect(result.status == 0)
            #expect(result.output.isEmpty, "systemd-analyze verify:\n\(result.output)")
        }
    }

    /// The target: `systemd-analyze security --offline=true --user` exposure at most 2.0.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze not installed"))
    func securityExposureIsAtMostTwo() throws {
        try withInstalledUnits { written, environment in
            let service = try #require(written.first { $0.lastPathComponent == UnitFiles.serviceName })
            let arguments = ["security", "--offline=true", "--user", "--no-pager", service.path]
            let result = try run(Self.analyze, arguments, environment)
            let summary = try #require(
                result.output.split(separator: "\n").last { $0.contains("Overall exposure level for credd.service") },
                "no exposure summary in:\n\(result.output)"
            )
            let score = try #require(
                summary.split(separator: " ").compactMap { Double($0) }.first, "no score in \(summary)"
            )
            #expect(score <= 2.0, "\(summary)")
        }
    }

    /// Installs the units into a scratch XDG tree, with a real executable standing in for credd
    /// (verify checks that `ExecStart=` exists), and the environment systemd-analyze needs.
    private func withInstalledUnits(_ body: ([URL], [String: String]) throws -> Void) throws {
        try TemporaryDirectory.with(prefix: "credd-systemd", in: "/tmp") { directory in
            let units = directory.appendingPathComponent("config/systemd/user")
            let written = try UnitInstaller(unitDirectory: units).install(binaryPath: "/usr/bin/true")
            let runtime = directory.appendingPathComponent("runtime")
            try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
            try body(
                written,
                [
                    "XDG_RUNTIME_DIR": runtime.path,
                    "XDG_CONFIG_HOME": directory.appendingPathComponent("config").path,
                    "HOME": directory.path,
                    "PATH": "/usr/local/bin:/usr/bin:/bin",
                    "SYSTEMD_LOG_COLOR": "0",
                ]
            )
        }
    }

    /// Runs a program to completion, returning its exit status and combined output.
    private func run(
        _ program: String,
        _ arguments: [String],
        _ environment: [String: String]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
