import ArgumentParser
import CreddConfig
import CreddDaemon
import FoundationEssentials

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground (what the systemd unit starts)."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        do {
            try await Daemon.run(configPath: options.config, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the config and show the resolved profiles (never a secret).",
        discussion:
            "Each profile's STS endpoint is shown with why it was chosen (regional, sts_regional_endpoints = legacy, its partition, a custom URL). Also warns about a credentials file others can read, helper programs that would not start, a listen address credd.socket does not serve, and a role or MFA device of another partition than its STS endpoint. Exit status: 0 when the config is valid (warnings or not), 1 when it has errors."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try options.load(environment, keyringProfiles: await Keys.storedProfiles(environment))
        let warnings = ConfigWarning.all(for: configuration, environment: environment)
        print(ConfigCheckReport.render(configuration, warnings: warnings), terminator: "")
        if !configuration.errors.isEmpty { throw ExitCode.failure }
    }
}
