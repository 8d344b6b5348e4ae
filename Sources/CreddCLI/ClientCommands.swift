import ArgumentParser
import CreddControl
import CreddCore
import CreddPlatform
import CreddRefresh
import FoundationEssentials
import Glibc

/// Shared plumbing of the commands that talk to a running daemon.
enum DaemonConnection {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var client: ControlClient {
        ControlClient(path: RuntimePaths(environment: environment).controlSocket)
    }

    /// Sends `request` and returns the answer, whether the command succeeded or not; a missing
    /// daemon exits with status 3 (as `credd status` documents), a broken connection with 1.
    static func send(_ request: ControlRequest) throws -> ControlResponse {
        do {
            return try client.send(request)
        } catch {
            printError("credd: \(error)")
            if case .noDaemon = error { throw ExitCode(3) }
            throw ExitCode.failure
        }
    }

    /// Sends `request`; a failed command exits with status 1 and the daemon's message on stderr.
    static func call(_ request: ControlRequest) throws -> ControlResponse {
        let response = try send(request)
        guard response.ok else {
            printError("credd: \(response.error ?? "the daemon refused the request")")
            throw ExitCode.failure
        }
        return response
    }
}

func printError(_ message: String) {
    writeToStandardError(message + "\n")
}

/// Unbuffered, like Foundation's `FileHandle.standardError`, so a prompt shows before `readLine`.
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each profile's state, expiry, next refresh, source and last error, and what to run for the ones that need you.",
        discussion: """
            The table fits $COLUMNS (80 when unset): errors are cut short at a word, and `credd status PROFILE` \
            shows one profile with every field in full. Exit status: 0 when every profile shown is fresh and the \
            config has no errors, 1 when a profile is not fresh or the config has errors (a profile that does not \
            resolve among them), 3 when no daemon answers.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Show only this profile, every field in full.", completion: .profileNames) var profile: String?
    @Flag(help: "Print the stable JSON document instead of a table.") var json = false

    func run() throws {
        let response: ControlResponse
        do {
            response = try DaemonConnection.client.send(ControlRequest(command: .status))
        } catch {
            report("\(error)")
            if case .noDaemon = error { throw ExitCode(3) }
            throw ExitCode.failure
        }
        guard response.ok, var document = response.status else {
            printError("credd: \(response.error ?? "the daemon sent no status")")
            throw ExitCode.failure
        }
        if let profile {
            document.profiles = document.profiles.filter { $0.name == profile }
            guard let shown = document.profiles.first else {
                report("the daemon manages no profile \(profile) (see credd list)")
                throw ExitCode.failure
            }
            if !json {
                print(
                    StatusTable.detail(shown, now: SystemWallClock().now(), width: StatusTable.width, secondsFromGMT: LocalTime.secondsFromGMT),
                    terminator: "")
                if shown.state != "fresh" { throw ExitCode.failure }
                return
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
        } else {
            let colour = isatty(STDOUT_FILENO) == 1 && DaemonConnection.environment["NO_COLOR"] == nil
            let table = StatusTable.render(
                document, now: SystemWallClock().now(), colour: colour, width: StatusTable.width, secondsFromGMT: LocalTime.secondsFromGMT)
            print(table, terminator: "")
        }
        if !document.isHealthy { throw ExitCode.failure }
    }

    /// A failure, once: scripts reading --json get a JSON answer even when nothing else can be said.
    private func report(_ message: String) {
        if json, let object = try? JSONEncoder().encode(["error": message]) {
            print(String(decoding: object, as: UTF8.self))
        } else {
            printError("credd: \(message)")
        }
    }
}

struct Refresh: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Renew now (all profiles, or the ones named).")

    @OptionGroup var options: ConfigOption
    @Argument(help: "Profiles to renew; all when none is given.", completion: .profileNames) var profiles: [String] = []

    func run() throws {
        let response = try DaemonConnection.call(ControlRequest(command: .refresh, profiles: profiles))
        if let message = response.message { print(message) }
    }
}

struct CredentialProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential-process",
        abstract: "Print the profile's credentials as credential_process JSON, from the daemon.",
        discussion: "Use in ~/.aws/config as: credential_process = credd credential-process PROFILE"
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The managed profile.", completion: .profileNames) var profile: String

    func run() throws {
        var response = try DaemonConnection.send(ControlRequest(command: .credentials, profile: profile))
        if !response.ok {
            // Only a profile that has nothing to serve costs a status call and perhaps a prompt.
            try MFACode.obtainIfNeeded(for: profile)
            response = try DaemonConnection.call(ControlRequest(command: .credentials, profile: profile))
        }
        guard let credentials = response.credentials else { throw ExitCode.failure }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(credentials), as: UTF8.self))
    }
}
