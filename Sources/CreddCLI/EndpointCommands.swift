import ArgumentParser
import CreddControl
import CreddEndpoint
import CreddPlatform
import FoundationEssentials
import Glibc

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print shell lines that point AWS SDKs at credd's container endpoint for a profile.",
        discussion: """
            Use as: eval "$(credd env dev)" in bash or zsh, credd env dev | source in fish. The lines set \
            AWS_CONTAINER_CREDENTIALS_FULL_URI, both AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and \
            AWS_CONTAINER_AUTHORIZATION_TOKEN (older SDKs read only the token; it stays valid across daemon restarts \
            until the runtime directory goes, at logout or reboot), AWS_REGION and AWS_DEFAULT_REGION when the profile \
            has a region, and CREDD_ENV_SET, the names set. They first unset what would override the endpoint \
            (AWS_ACCESS_KEY_ID, AWS_PROFILE, …) and what the previous credd env set, so switching profiles leaves no \
            region behind.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The syntax to print: bash, zsh, fish or sh (default: from $SHELL).")
    var shell: ShellEnvironment.Shell?
    @Flag(help: "Print lines that unset everything credd env set (no profile, no daemon needed).")
    var unset = false
    @Argument(help: "The managed profile.", completion: .profileNames) var profile: String?

    func validate() throws {
        if unset, profile != nil { throw ValidationError("--unset takes no profile") }
        if !unset, profile == nil { throw ValidationError("give a profile, e.g. credd env dev, or --unset") }
    }

    func run() throws {
        let current = ProcessInfo.processInfo.environment
        let syntax = shell ?? .detected(fromShellVariable: current["SHELL"])
        let marker = current[ShellEnvironment.markerVariable]
        guard let profile, !unset else {
            print(ShellEnvironment.unsetLines(previousMarker: marker, shell: syntax), terminator: "")
            return
        }
        let settings = try EndpointLookupCall.settings(for: profile)
        print(ShellEnvironment.exportLines(settings, previousMarker: marker, shell: syntax), terminator: "")
    }
}

extension ShellEnvironment.Shell: ExpressibleByArgument {}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command, or your shell, with AWS SDKs pointed at credd's container endpoint for a profile.",
        discussion: """
            credd exec dev -- aws s3 ls runs the command with the variables credd env prints; credd exec dev opens \
            $SHELL (/bin/sh without it), marked with CREDD_PROFILE=dev, until you exit it. A credd exec inside such a \
            shell warns on stderr. Options of credd go before the profile: everything after it is the command.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The managed profile.", completion: .profileNames) var profile: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (default: $SHELL).") var command: [String] = []

    func run() throws {
        let current = ProcessInfo.processInfo.environment
        if let outer = current[ShellEnvironment.execProfileVariable] {
            printError("credd: warning: already inside credd exec for profile \(outer) (CREDD_PROFILE); this one is nested in it")
        }
        // `--` is optional, and captured as given.
        var argv = command.first == "--" ? Array(command.dropFirst()) : command
        if argv.isEmpty {
            argv = [current["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"]
        }
        let settings = try EndpointLookupCall.settings(for: profile)
        let variables = ShellEnvironment.applying(settings, to: InheritedEnvironment.current())
        // Replace this process so signals and the exit status are the command's own.
        for name in current.keys where variables[name] == nil { unsetenv(name) }
        for (name, value) in variables { setenv(name, value, 1) }
        execvp(argv[0], argv.map { strdup($0) } + [nil])
        printError("credd: cannot run \(argv[0]): \(String(cString: strerror(errno)))")
        throw ExitCode(127)
    }
}

enum EndpointLookupCall {
    /// The endpoint settings for `profile`, once it has credentials to serve or waits for nothing
    /// the user can give (asking for an MFA code first when it needs one: a command must not meet a 503).
    static func settings(for profile: String) throws -> ShellEnvironment.Settings {
        try MFACode.obtainIfNeeded(for: profile)
        let response = try DaemonConnection.call(ControlRequest(command: .environment, profile: profile))
        guard let environment = response.environment else { throw ExitCode.failure }
        // The daemon wrote the token file before answering; it is this user's, mode 0600.
        guard let token = ContainerToken.kept(at: environment.tokenFile) else {
            printError("credd: cannot read the container token in \(environment.tokenFile); restart the daemon (systemctl --user restart credd)")
            throw ExitCode.failure
        }
        return ShellEnvironment.Settings(
            profile: profile, endpoint: ShellEnvironment.Endpoint(host: environment.host, port: environment.port),
            tokenFile: environment.tokenFile, token: token, region: environment.region)
    }
}
