import CreddINI
import CreddTestSupport
import Foundation
import Testing

/// botocore is a real peer: these tests fail (rather than skip) when it is missing, so CI must install it.
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
        let directory = try TemporaryDirectory(prefix: "credd-ini")
        defer { directory.remove() }

        var paths: [String: INIFixture] = [:]
        for (index, fixture) in INIFixtures.all.enumerated() {
            let path = try directory.write("fixture-\(index).ini", fixture.text, mode: nil)
            paths[path] = fixture
        }
        // Decode files as UTF-8 whatever the test machine's locale, as on users' machines.
        let environment = ProcessInfo.processInfo.environment.merging(["PYTHONUTF8": "1"]) { _, new in new }
        let run = try ChildProcess.run(["python3", "-c", Self.parseScript] + paths.keys.sorted(), environment: environment)
        try #require(run.status == 0, "python3 with botocore must be installed")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: [String: Any]])

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
