import ArgumentParser
import CreddControl
import CreddCore
import CreddPlatform
import CreddRefresh
import FoundationEssentials
import Glibc

/// Where `credd login` asks for an MFA code: the terminal, or a graphical dialog
/// (``CodeDialog``).
protocol CodePrompt: AnyObject {
    /// Shows `prompt` and reads one line; `nil` when none was given (Ctrl-D, Cancel).
    func ask(_ prompt: String) -> String?
    /// Tells the user something before the next question.
    func say(_ text: String)
    /// Tells the user why no code went through, before credd exits 1.
    func failed(_ problem: String)
}

/// The process's controlling terminal (`/dev/tty`), where codes are asked for even when stdin
/// and stdout are pipes (`eval "$(credd env dev)"`, an SDK running `credential-process`), as
/// aws-vault does. There is none under systemd, cron or CI: `open()` is then `nil`.
final class Terminal: CodePrompt {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    static func open() -> Terminal? {
        let descriptor = Glibc.open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        return descriptor < 0 ? nil : Terminal(descriptor: descriptor)
    }

    func say(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Shows `prompt` and reads one line; `nil` at end of input (Ctrl-D) or on an error.
    func ask(_ prompt: String) -> String? {
        say(prompt)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    func failed(_ problem: String) {
        printError("credd: \(problem)")
    }
}

enum MFACode {
    /// The typed line as a code: six ASCII digits, surrounding blanks ignored.
    static func parse(_ line: String) -> Secret? {
        let trimmed = line.trimmingWhitespace(newlines: true)
        guard trimmed.utf8.count == 6, trimmed.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return Secret(trimmed)
    }

    static let formatProblem = "an MFA code is six digits"
    static let attempts = 3

    /// Asks on `terminal` (or in a dialog) for the code `profile` waits for (its own, or its
    /// chain's `action.profile`) and hands it to the daemon. A code that is not six digits, or
    /// that STS rejects, is asked for again, at most ``attempts`` times in all. Returns the
    /// daemon's answer to the code it accepted; otherwise says why and exits 1.
    static func login(_ profile: String, action: StatusDocument.Action?, on terminal: any CodePrompt) throws -> ControlResponse {
        let target = action?.profile ?? profile
        let prompt = action?.mfaSerial.map { "Enter MFA code for \($0) (profile \(target)): " } ?? "Enter MFA code for profile \(target): "
        for attempt in 1...attempts {
            let isLast = attempt == attempts
            guard let line = terminal.ask(prompt) else {
                // Nothing to show: the user chose not to answer.
                printError("credd: no MFA code was entered")
                throw ExitCode.failure
            }
            guard let code = parse(line) else {
                if isLast { break }
                terminal.say("\(formatProblem); try again\n")
                continue
            }
            let response = try DaemonConnection.send(ControlRequest(command: .login, profile: profile, code: code))
            if response.ok { return response }
            let problem = response.error ?? "the daemon refused the code"
            guard response.codeRejected == true, !isLast else {
                terminal.failed(problem)
                throw ExitCode.failure
            }
            terminal.say("\(problem)\nwait for the next code and try again\n")
        }
        terminal.failed("no valid MFA code after \(attempts) attempts (\(formatProblem))")
        throw ExitCode.failure
    }

    /// Before `exec`, `env` and `credential-process` use `profile`: when it (or its source) waits
    /// for an MFA code and has no session in service, asks for the code on the terminal and hands
    /// it to the daemon, which answers once `profile` renewed. Off a terminal, exits 1 with the
    /// command to run. A session still in service is used, with a reminder on stderr.
    static func obtainIfNeeded(for profile: String) throws {
        let status = try DaemonConnection.call(ControlRequest(command: .status)).status
        guard let action = status?.profiles.first(where: { $0.name == profile })?.action, action.kind == ProfileAction.Kind.mfaCode.rawValue
        else { return }
        if let deadline = action.deadline, let ends = AWSTimestamp.parse(deadline), ends > SystemWallClock().now() {
            printError("credd: \(profile) \(action.reason(for: profile)) (its session ends \(deadline))")
            return
        }
        guard let terminal = Terminal.open() else {
            printError("credd: \(profile) \(action.reason(for: profile))")
            throw ExitCode.failure
        }
        let response = try login(profile, action: action, on: terminal)
        if let message = response.message { terminal.say(message + "\n") }
    }
}

extension StatusDocument.Action {
    /// The sentence `ProfileAction` says for this action, e.g. `needs an MFA code for mfa: run `credd login mfa``.
    func reason(for name: String) -> String {
        guard let kind = ProfileAction.Kind(rawValue: kind) else { return "run `\(command)`" }
        return ProfileAction(kind: kind, profile: profile, command: command, deadline: nil).reason(for: name)
    }
}
