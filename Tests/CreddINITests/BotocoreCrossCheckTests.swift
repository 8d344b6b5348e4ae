import Foundation
import Testing
import CreddINI

/// Runs `python3 -c script arguments…` and returns its standard output. botocore is a real
/// peer: these tests fail (rather than skip) when it is missing, so CI must install it.
func runPython(_ script: String, arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    // Decode files as UTF-8 whatever the test machine's locale, as on users' machines.
    process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUTF8": "1"]) { _, new in new }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Cross-check with botocore's own parser")
struct BotocoreCrossCheckTests {
    /// Prints, per file, either botocore's parsed sections or the parse error's class name.
    static let parseScript = """
    import json, sys
    import botocore.configloader as c, botocore.exceptions as e
    out = {}
    for path in sys.argv[1:]:
        try:
            out[path] = {"sections": c.raw_config_parse(path)}
        except e.ConfigParseError as err:
            out[path] = {"error": type(err).__name__}
    print(json.dumps(out))
    """

    /// What we read, in the shape `raw_config_parse` returns: the first section of each name,
    /// values as strings, nested blocks as dictionaries.
    static func ourReading(_ document: INIDocument) -> [String: [String: AnyHashable]] {
        var result: [String: [String: AnyHashable]] = [:]
        for section in document.sections where result[section.name] == nil {
            var values: [String: AnyHashable] = [:]
            for entry in section.entries {
                if entry.value.isEmpty && !entry.continuation.isEmpty {
                    var nested: [String: String] = [:]
                    for sub in entry.subEntries { nested[sub.key] = sub.value }
                    values[entry.key] = nested
                } else {
                    values[entry.key] = ([entry.value] + entry.continuation).joined(separator: "\n")
                }
            }
            result[section.name] = values
        }
        return result
    }

    static func botocoreReading(_ json: Any?) -> [String: [String: AnyHashable]]? {
        guard let sections = json as? [String: [String: Any]] else { return nil }
        return sections.mapValues { values in
            values.compactMapValues { value -> AnyHashable? in
                if let text = value as? String { return text }
                if let nested = value as? [String: String] { return nested }
                return nil
            }
        }
    }

    @Test("botocore reads every fixture as we do, and rejects the ones we flag")
    func fixturesAgreeWithBotocore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credd-ini-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var paths: [String: INIFixture] = [:]
        for (index, fixture) in INIFixtures.all.enumerated() {
            let path = directory.appendingPathComponent("fixture-\(index).ini").path
            try Data(fixture.text.utf8).write(to: URL(fileURLWithPath: path))
            paths[path] = fixture
        }
        let run = try runPython(Self.parseScript, arguments: paths.keys.sorted())
        try #require(run.status == 0, "python3 with botocore must be installed")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: [String: Any]])

        for (path, fixture) in paths.sorted(by: { $0.key < $1.key }) {
            let result = try #require(results[path], "\(fixture.name)")
            let document = INIDocument(parsing: fixture.text)
            if fixture.botocoreAccepts {
                let theirs = Self.botocoreReading(result["sections"])
                #expect(theirs == Self.ourReading(document), "\(fixture.name): botocore \(result)")
            } else {
                #expect(result["error"] != nil, "\(fixture.name): botocore accepted a file we flag")
            }
        }
    }
}
