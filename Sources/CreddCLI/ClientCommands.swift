import ArgumentParser
import CreddCore
import CreddDaemon
import CreddPlatform
import FoundationEssentials
import Glibc

/// Shared plumbing of the commands that talk to a running daemon.
enum DaemonConnection {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var client: ControlClient {
        ControlClient(path: RuntimePaths(environment: environment).controlSocket)
    }

    /// Sends `request`; a missing daemon exits with status 3 (as `credd status` documents),
    /// a failed command with status 1 and the daemon's message on stderr.
    static func call(_ request: ControlRequest) throws -> ControlResponse {
        let result = Result { () throws(DaemonError) in try client.send(request) }
        guard case let .success(response) = result else {
            if case let .failure(error) = result {
                printError("credd: \(error)")
                if case .noDaemon = error { throw ExitCode(3) }
            }
            throw ExitCode.failure
        }
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
        abstract: "Show each profile's state, expiry, next refresh, source and last error.",
        discussion: "Exit status: 0 when every profile is fresh, 1 when any is not, 3 when no daemon answers."
    )

    @OptionGroup var options: ConfigOption
    @Flag(help: "Print the stable JSON document instead of a table.") var json = false

    func run() throws {
        let response = try DaemonConnection.call(ControlRequest(command: .status))
        guard let document = response.status else { throw ExitCode.failure }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
        } else {
            let colour = isatty(STDOUT_FILENO) == 1 && DaemonConnection.environment["NO_COLOR"] == nil
            print(StatusTable.render(document, now: SystemWallClock().now(), colour: colour), terminator: "")
        }
        if !document.allFresh { throw ExitCode.failure }
    }
}

struct Refresh: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Renew now (all profiles, or the ones named).")

    @OptionGroup var options: ConfigOption
    @Argument(help: "Profiles to renew; all when none is given.") var profiles: [String] = []

    func run() throws {
        let response = try DaemonConnection.call(ControlRequest(command: .refresh, profiles: profiles))
        if let message = response.message { print(message) }
    }
}

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give an MFA code to a profile that needs one.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The profile waiting for an MFA code.") var profile: String
    @Option(help: "The code; prompted for on the terminal when omitted.") var code: String?

    func run() throws {
        let entered: String
        if let code {
            entered = code
        } else {
            writeToStandardError("MFA code for \(profile): ")
            guard let line = readLine() else { throw ValidationError("no MFA code was entered") }
            entered = line
        }
        let trimmed = entered.trimmingWhitespace()
        guard trimmed.count == 6, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else {
            throw ValidationError("an MFA code is six digits")
        }
        let response = try DaemonConnection.call(ControlRequest(command: .login, profile: profile, code: Secret(trimmed)))
        print(response.message ?? "\(profile): renewed")
    }
}

struct CredentialProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential-process",
        abstract: "Print the profile's credentials as credential_process JSON, from the daemon.",
        discussion: "Use in ~/.aws/config as: credential_process = credd credential-process PROFILE"
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The managed profile.") var profile: String

    func run() throws {
        let response = try DaemonConnection.call(ControlRequest(command: .credentials, profile: profile))
        guard let credentials = response.credentials else { throw ExitCode.failure }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(credentials), as: UTF8.self))
    }
}
