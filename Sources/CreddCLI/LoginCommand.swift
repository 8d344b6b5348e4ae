import ArgumentParser
import CreddConfig
import CreddControl
import CreddPlatform
import CreddRefresh
import FoundationEssentials

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to an IAM Identity Center session, or give an MFA code to a profile that needs one.",
        discussion: """
            NAME is an [sso-session] (from credd's config or ~/.aws/config), a profile that signs in through one, \
            or a profile waiting for an MFA code. \
            Identity Center: by default the authorization-code flow with PKCE: the sign-in page opens in the browser \
            ($CREDD_BROWSER, else $BROWSER, else xdg-open) and sends the browser back to credd on 127.0.0.1. With \
            --device-code or --no-browser, the device flow: credd prints a URL and a code to enter there. The token \
            is written to ~/.aws/sso/cache/, where the AWS CLI finds it too and a running daemon reads it at once. \
            MFA: asks for the code on the terminal, again after a mistyped or rejected code (3 attempts). With \
            --dialog it asks in a graphical dialog (zenity, or kdialog on KDE), as a notification's "Enter code" \
            does where one is installed; Cancel gives no code and changes nothing. With --code - it reads one line \
            from stdin instead, for scripts. A code is never taken from the command line: every local user can \
            read a process's arguments in /proc.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(
        help: "An Identity Center session or a profile using one; or the profile waiting for an MFA code, or a role chained from it.",
        completion: .profileNames) var name: String
    @Option(help: ArgumentHelp("`-`: read the MFA code from stdin (one line).", valueName: "-")) var code: String?
    @Flag(help: "MFA: ask for the code in a graphical dialog (zenity or kdialog) instead of on the terminal.") var dialog = false
    @Flag(help: "Identity Center: sign in with a code entered on the verification page instead of the browser redirect.") var deviceCode = false
    @Flag(help: "Identity Center: open no browser; sign in with a code, printing the URL to enter it at.") var noBrowser = false

    func validate() throws {
        if dialog, code != nil { throw ValidationError("--dialog and --code - are two ways to give the code: use one") }
        if let code, code != "-" {
            throw ValidationError(
                "--code takes only `-` (read the code from stdin): a code in the arguments is readable by every local user in /proc/PID/cmdline. Use: echo CODE | credd login \(name) --code -"
            )
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        switch identityCenterSession(environment) {
        case .sso(let session):
            guard code == nil, !dialog else {
                printError("credd: '\(name)' signs in to IAM Identity Center, which takes no MFA code; run: credd login \(name)")
                throw ExitCode.failure
            }
            try await SSOSignIn.run(session, deviceCode: deviceCode || noBrowser, openBrowser: !noBrowser, environment: environment)
        case .invalid(let problem):
            printError("credd: \(problem)")
            throw ExitCode.failure
        case .notSSO:
            guard !deviceCode, !noBrowser else {
                printError(
                    "credd: --device-code and --no-browser are for IAM Identity Center; '\(name)' is neither an [sso-session] nor a profile using one"
                )
                throw ExitCode.failure
            }
            try giveMFACode(environment)
        }
    }

    /// The session NAME signs in to. A config that cannot be read leaves the MFA path, which
    /// needs only the daemon, as it was.
    private func identityCenterSession(_ environment: [String: String]) -> SSOSessionLookup.Outcome {
        guard let configuration = try? ConfigLoader.load(explicitPath: options.config, environment: environment) else { return .notSSO }
        return SSOSessionLookup(configuration: configuration).resolve(name)
    }

    private func giveMFACode(_ environment: [String: String]) throws {
        guard code == nil else { return try loginFromStandardInput() }
        let prompt: any CodePrompt
        if dialog {
            guard let program = CodeDialogProgram.find(environment: environment) else {
                printError("credd: --dialog needs zenity or kdialog on PATH; without them: credd login \(name)")
                throw ExitCode.failure
            }
            prompt = CodeDialog(program: program, profile: name)
        } else {
            guard let terminal = Terminal.open() else {
                printError("credd: no terminal to ask for the MFA code on; pipe it in: credd login \(name) --code -")
                throw ExitCode.failure
            }
            prompt = terminal
        }
        let status = try DaemonConnection.call(ControlRequest(command: .status)).status
        let action = status?.profiles.first { $0.name == name }?.action
        let response = try MFACode.login(name, action: action?.kind == ProfileAction.Kind.mfaCode.rawValue ? action : nil, on: prompt)
        print(response.message ?? "\(name): renewed")
    }

    private func loginFromStandardInput() throws {
        guard let line = readLine() else {
            printError("credd: no MFA code on stdin")
            throw ExitCode.failure
        }
        guard let code = MFACode.parse(line) else {
            printError("credd: \(MFACode.formatProblem)")
            throw ExitCode.failure
        }
        let response = try DaemonConnection.call(ControlRequest(command: .login, profile: name, code: code))
        print(response.message ?? "\(name): renewed")
    }
}
