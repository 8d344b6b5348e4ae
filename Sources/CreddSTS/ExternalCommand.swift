import CreddCore

/// A command line from the AWS config, split and run without a shell.
enum ExternalCommand {
    /// What a successful (exit status 0) run produced, and which program produced it.
    struct Result {
        let program: String
        let output: ProcessRunner.Output
    }

    /// Splits and runs `commandLine`; every failure, a non-zero exit included, becomes an
    /// `ExternalCommandError` for `setting`.
    static func run(
        _ commandLine: String, setting: ExternalCommandError.Setting, configuration: ProcessRunner.Configuration
    ) async throws(ExternalCommandError) -> Result {
        let arguments: [String]
        do {
            arguments = try CommandLineSplitter.split(commandLine)
        } catch {
            let problem: String
            switch error {
            case .unterminatedQuote(let quote): problem = "no closing \(quote)"
            case .trailingBackslash: problem = "a trailing backslash escapes nothing"
            }
            throw ExternalCommandError(setting: setting, program: "", reason: .unparsableCommandLine(problem), stderr: [])
        }
        let program = arguments.first ?? ""
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(arguments, configuration: configuration)
        } catch {
            switch error {
            case .launchFailed(_, let reason):
                throw ExternalCommandError(setting: setting, program: program, reason: .launchFailed(reason), stderr: [])
            case .timedOut(_, let stderr):
                throw ExternalCommandError(
                    setting: setting, program: program, reason: .timedOut(configuration.timeout), stderr: stderr)
            case .cancelled:
                throw ExternalCommandError(
                    setting: setting, program: program, reason: .launchFailed("cancelled while running"), stderr: [])
            }
        }
        guard output.exitStatus == 0 else {
            throw ExternalCommandError(
                setting: setting, program: program, reason: .nonZeroExit(output.exitStatus), stderr: output.stderr)
        }
        return Result(program: program, output: output)
    }
}
