import ArgumentParser
import CreddConfig
import CreddDaemon
import CreddPlatform
import Dispatch
import Glibc

/// The `credd` command tree. Client commands reach the daemon through the control socket only.
public struct CreddCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "credd",
        abstract: "Keeps AWS credentials fresh: renews STS sessions before they expire, writes them to ~/.aws/credentials and serves them to SDKs.",
        version: CreddVersion.description,
        subcommands: [
            Run.self, Status.self, Refresh.self, Login.self, Env.self, Exec.self, CredentialProcessCommand.self, Check.self,
            Rotate.self, Keys.self, InstallUnits.self, UninstallUnits.self,
            ListProfiles.self, SSOCommand.self, Console.self,
        ]
    )

    public init() {}
}

/// `--config PATH`, accepted by every command.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The credd config file (default: $CREDD_CONFIG, $XDG_CONFIG_HOME/credd/config, ~/.config/credd/config).", valueName: "path"))
    var config: String?

    /// The configuration; a config that cannot be found or read exits 1 with the reason.
    func load(_ environment: [String: String], keyringProfiles: Set<String> = []) throws -> LoadedConfiguration {
        do {
            return try ConfigLoader.load(explicitPath: config, environment: environment, keyringProfiles: keyringProfiles)
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
    }
}

extension CreddCommand {
    /// The process: ``runFromCommandLine()`` on NIO's event loop as Swift concurrency's executor,
    /// while the main thread parks in `dispatchMain()`, as Swift's own async `main` does.
    public static func runProcess() -> Never {
        // libdispatch's manager thread (started by the signal sources) asks for nice -4, which a
        // user service may not have, and logs the refusal ("Failed to set thread priority for
        // worker thread: … errno=13") to syslog, the journal, at every start. Unless the user
        // chose a LIBDISPATCH_LOG, libdispatch logs nothing here; children get the user's environment.
        InheritedEnvironment.silenceLibdispatch()
        ProcessEventLoops.install()
        Task {
            await runFromCommandLine()
            Glibc.exit(EXIT_SUCCESS)
        }
        dispatchMain()
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
