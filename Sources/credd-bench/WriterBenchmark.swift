import ArgumentParser
import CreddCore
import CreddCredentialsFile
import CreddINI
import CreddPlatform
import Foundation

/// Times `CredentialsFileWriter.apply` (lock, re-read, edit, temp file, fsync, rename, fsync of
/// the directory) on a credentials file of many sections. A benchmark, not a test: it reports
/// figures and never asserts a time.
@main
struct WriterBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credd-bench",
        abstract: "Times credd's locked atomic rewrite of a large credentials file.",
        discussion: """
            Scenarios: 'all-managed' (every section is credd's, every one updated per rewrite), \
            'mixed' (half the sections are the user's static keys, credd's half all updated), \
            'one-of-many' (every section is credd's, one updated per rewrite: a single renewal).
            """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case allManaged = "all-managed"
        case mixed
        case oneOfMany = "one-of-many"
    }

    @Option(help: "Sections in the file.")
    var sections = 1000

    @Option(help: "Timed rewrites per scenario.")
    var runs = 50

    @Option(help: "Untimed rewrites before the timed ones.")
    var warmUp = 3

    @Option(help: "Directory for the throw-away credentials file (default: a new one under $TMPDIR or /tmp).")
    var directory: String?

    @Option(help: "Scenarios to run: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: [Scenario] = Scenario.allCases

    private static let wallClock = SystemWallClock()

    func validate() throws {
        guard sections >= 2 else { throw ValidationError("--sections must be at least 2") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmUp >= 0 else { throw ValidationError("--warm-up must not be negative") }
    }

    func run() throws {
        let parent = directory ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let workDirectory = "\(parent)/credd-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }

        print("scenario      sections  updated  runs  median_ms  p95_ms  min_ms  max_ms  file_bytes")
        for scenario in scenario {
            let path = "\(workDirectory)/credentials-\(scenario.rawValue)"
            let result = try measure(scenario, path: path)
            print(result.row)
        }
    }

    private func measure(_ scenario: Scenario, path: String) throws -> Measurement {
        let writer = CredentialsFileWriter(path: path, clock: Self.wallClock)
        let userSections = scenario == .mixed ? sections / 2 : 0
        let managedNames = (userSections..<sections).map { "bench-\($0)" }
        // The starting file is written as text: building it through the writer, one section per
        // edit, would take far longer than the rewrites measured.
        let startingText = userKeys(count: userSections) + managedNames.map { Self.managedSection($0) }.joined()
        try startingText.write(toFile: path, atomically: true, encoding: .utf8)

        let updatedNames = scenario == .oneOfMany ? [managedNames[managedNames.count / 2]] : managedNames
        let clock = ContinuousClock()
        var timings: [Duration] = []
        for generation in 1...(warmUp + runs) {
            let updates = updatedNames.map { SectionUpdate.write(section: $0, credentials: Self.credentials(generation: generation, index: $0)) }
            let elapsed = try clock.measure { try check(writer.apply(updates)) }
            if generation > warmUp { timings.append(elapsed) }
        }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        return Measurement(scenario: scenario, sections: sections, updated: updatedNames.count, timings: timings, fileBytes: size)
    }

    /// Static keys the way the AWS CLI writes them: sections credd must leave byte-identical.
    private func userKeys(count: Int) -> String {
        (0..<count).map { index in
            "[user-\(index)]\naws_access_key_id = AKIAUSER\(String(format: "%012d", index))\naws_secret_access_key = user-secret-\(index)\n\n"
        }.joined()
    }

    /// A section as credd writes it: header, marker, the five managed keys.
    private static func managedSection(_ name: String) -> String {
        let credentials = credentials(generation: 0, index: name)
        let token = credentials.sessionToken?.revealed ?? ""
        let expiration = credentials.expiration.map(AWSTimestamp.format) ?? ""
        return """
            [\(name)]
            \(CreddManagedSection.marker)
            aws_access_key_id = \(credentials.accessKeyId)
            aws_secret_access_key = \(credentials.secretAccessKey.revealed)
            aws_session_token = \(token)
            aws_security_token = \(token)
            x_security_token_expires = \(expiration)


            """
    }

    /// Roughly real sizes (a ~40-character secret, a ~400-character session token), new values per generation.
    private static func credentials(generation: Int, index: String) -> AWSCredentials {
        let stamp = "\(generation)-\(index)"
        return AWSCredentials(
            accessKeyId: "ASIA\(stamp)",
            secretAccessKey: Secret(String(repeating: "s", count: 32) + stamp),
            sessionToken: Secret(String(repeating: "T", count: 400) + stamp),
            expiration: wallClock.now().addingTimeInterval(3600))
    }

    /// Fails the run when any section was refused: a timing of a rewrite that did not happen means nothing.
    private func check(_ outcomes: [SectionOutcome]) throws {
        for outcome in outcomes {
            if case let .failure(error) = outcome.result {
                throw ValidationError("section \(outcome.section) was not written: \(error)")
            }
        }
    }
}
