import CreddCore
import FoundationEssentials

/// An MFA code from an `mfa_process` command (e.g. `oathtool --totp …`, `ykman oath accounts code -s …`).
public enum MFACodeCommand {
    /// Runs `commandLine` (split like `shlex.split`, no shell) and returns its trimmed output,
    /// which must be exactly six digits. The output is never quoted in an error.
    public static func run(
        commandLine: String,
        timeout: Duration,
        environment: [String: String]? = nil
    ) async throws(ExternalCommandError) -> Secret {
        let result = try await ExternalCommand.run(
            commandLine, setting: .mfaProcess,
            configuration: ProcessRunner.Configuration(timeout: timeout, maxOutputBytes: 1024, environment: environment))
        let code = String(decoding: result.output.stdout, as: UTF8.self).trimmingWhitespace(newlines: true)
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ExternalCommandError(
                setting: .mfaProcess, program: result.program,
                reason: .invalidOutput("expected a 6-digit code, got \(code.count) characters"), stderr: result.output.stderr)
        }
        return Secret(code)
    }
}
