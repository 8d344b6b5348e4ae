import CreddCore

/// A `credential_process` or `mfa_process` command that did not produce what credd needs.
///
/// Messages quote at most a short, redacted excerpt of the command's **stderr** (a helper run
/// with `set -x` prints its secrets there), never its stdout, and name only the program, not
/// its arguments.
public struct ExternalCommandError: Error, Sendable, Hashable {
    /// Which profile setting the command came from.
    public enum Setting: String, Sendable, Hashable {
        case credentialProcess = "credential_process"
        case mfaProcess = "mfa_process"
    }

    public enum Reason: Sendable, Hashable {
        /// The command line has an unterminated quote or a trailing backslash.
        case unparsableCommandLine(String)
        case launchFailed(String)
        case timedOut(Duration)
        case nonZeroExit(Int32)
        /// The output is not what the setting requires; the associated text says what is wrong.
        case invalidOutput(String)
    }

    public let setting: Setting
    /// `argv[0]`: arguments can carry tokens or passwords, so they are left out.
    public let program: String
    public let reason: Reason
    /// A redacted excerpt of stderr (`Redaction.excerpt`), on one line; empty when there was none.
    public let stderrExcerpt: String

    public init(setting: Setting, program: String, reason: Reason, stderr: [UInt8]) {
        self.setting = setting
        self.program = program
        self.reason = reason
        self.stderrExcerpt = Self.excerpt(stderr)
    }

    /// What this means for the refresh schedule.
    public var disposition: FailureDisposition {
        switch (setting, reason) {
        case (.mfaProcess, _):
            // Without a code from the command the user can still give one with `credd login`.
            return .needsMFA
        case (.credentialProcess, .timedOut), (.credentialProcess, .nonZeroExit):
            // The command may depend on an agent, a network or a vault that comes back.
            return .retryable
        case (.credentialProcess, .unparsableCommandLine), (.credentialProcess, .launchFailed),
            (.credentialProcess, .invalidOutput):
            return .needsChange
        }
    }

    /// The failure as the refresh scheduler and `credd status` take it.
    public var refreshFailure: RefreshFailure {
        RefreshFailure(disposition: disposition, message: description)
    }

    /// Redacted before it is cut, so a credential straddling the cut is still recognised whole.
    static func excerpt(_ stderr: [UInt8]) -> String {
        sanitized(String(decoding: stderr, as: UTF8.self), removing: [])
    }
}

extension ExternalCommandError: CustomStringConvertible {
    public var description: String {
        let what: String
        let next: String
        switch reason {
        case .unparsableCommandLine(let problem):
            what = "cannot split the command line: \(problem)"
            next = "fix the quoting of \(setting.rawValue) in the AWS config"
        case .launchFailed(let problem):
            what = "could not start '\(program)': \(problem)"
            next = "check the program path and permissions in \(setting.rawValue)"
        case .timedOut(let timeout):
            what = "'\(program)' did not finish within \(timeout) and was killed"
            next = "check that the command runs non-interactively"
        case .nonZeroExit(let status):
            what = "'\(program)' exited with status \(status)"
            next = "run the command by hand to see why it fails"
        case .invalidOutput(let problem):
            what = "'\(program)' printed unusable output: \(problem)"
            next =
                setting == .mfaProcess
                ? "make the command print only the 6-digit code, or use `credd login PROFILE`"
                : "make the command print the credential_process JSON (\"Version\": 1, AccessKeyId, SecretAccessKey)"
        }
        let stderrPart = stderrExcerpt.isEmpty ? "" : " (stderr: \(stderrExcerpt))"
        return "\(setting.rawValue) failed: \(what)\(stderrPart). Next: \(next)"
    }
}
