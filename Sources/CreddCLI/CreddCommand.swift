import ArgumentParser
import CreddCore
import CreddDaemon

/// The `credd` command tree. Client commands reach the daemon through the control socket only.
public struct CreddCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "credd",
        abstract: "Keeps AWS credentials fresh: renews STS sessions before they expire, writes them to ~/.aws/credentials and serves them to SDKs.",
        version: "\(CreddVersion.number) (commit \(BuildInfo.commit))",
        subcommands: [
            Run.self, Status.self, Refresh.self, Login.self, Env.self, Exec.self, CredentialProcessCommand.self, Check.self,
            Rotate.self, InstallUnits.self, UninstallUnits.self,
            ListProfiles.self,
        ]
    )

    public init() {}
}

/// `--config PATH`, accepted by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The credd config file (default: $CREDD_CONFIG, $XDG_CONFIG_HOME/credd/config, ~/.config/credd/config).", valueName: "path"))
    var config: String?
}

extension CreddCommand {
    /// The process: one NIO event loop, and ``runFromCommandLine()`` on credd's own executors,
    /// which never start libdispatch's worker pool (an idle daemon must not wake).
    public static func runProcess() -> Never {
        ProcessEventLoops.useOneLoop()
        runOnProcessExecutors { await runFromCommandLine() }
    }

    /// Parses the command line and runs the chosen command, awaiting the asynchronous ones
    /// (`run`); ArgumentParser's own `main()` cannot tell them apart across modules on Linux.
    public static func runFromCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
