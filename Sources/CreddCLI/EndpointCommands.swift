import ArgumentParser
import CreddControl
import CreddEndpoint
import CreddPlatform
import FoundationEssentials
import Glibc

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print shell lines that point AWS SDKs at credd's container endpoint for a profile.",
        discussion: "Use as: eval \"$(credd env dev)\""
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The managed profile.", completion: .profileNames) var profile: String

    func run() throws {
        let environment = try EndpointLookupCall.environment(for: profile)
        print(ShellEnvironment.exportLines(
            profile: profile,
            endpoint: ShellEnvironment.Endpoint(host: environment.host, port: environment.port),
            tokenFile: environment.tokenFile,
            region: environment.region
        ), terminator: "")
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command with AWS SDKs pointed at credd's container endpoint for a profile."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The managed profile.", completion: .profileNames) var profile: String
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String]

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. credd exec dev -- aws s3 ls") }
    }

    func run() throws {
        let environment = try EndpointLookupCall.environment(for: profile)
        let variables = ShellEnvironment.applying(
            profile: profile,
            endpoint: ShellEnvironment.Endpoint(host: environment.host, port: environment.port),
            tokenFile: environment.tokenFile,
            region: environment.region,
            to: InheritedEnvironment.current()
        )
        // Replace this process so signals and the exit status are the command's own.
        let current = ProcessInfo.processInfo.environment
        for name in current.keys where variables[name] == nil { unsetenv(name) }
        for (name, value) in variables { setenv(name, value, 1) }
        let argv = command.map { strdup($0) } + [nil]
        execvp(command[0], argv)
        printError("credd: cannot run \(command[0]): \(String(cString: strerror(errno)))")
        throw ExitCode(127)
    }
}

enum EndpointLookupCall {
    /// The endpoint for `profile`, once it has credentials to serve or waits for nothing the user
    /// can give (asking for an MFA code first when it needs one: a command must not meet a 503).
    static func environment(for profile: String) throws -> EndpointEnvironment {
        try MFACode.obtainIfNeeded(for: profile)
        let response = try DaemonConnection.call(ControlRequest(command: .environment, profile: profile))
        guard let environment = response.environment else { throw ExitCode.failure }
        return environment
    }
}
