import ArgumentParser
import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddSSO
import FoundationEssentials

/// `credd login SESSION`: signs in and stores the token where the AWS CLI keeps it; a running
/// daemon watches that file and reads the token at once.
enum SSOSignIn {
    static func run(_ session: SSOSession, deviceCode: Bool, openBrowser: Bool, environment: [String: String]) async throws {
        let label = session.name ?? session.startURL
        let cache = try tokenCache(environment)
        let http = SSOHTTP()
        let oidc = SSOOIDCClient(http: http, endpoint: SSOEndpoints(region: session.region, environment: environment).oidc)
        let login = SSOLogin(oidc: oidc, cache: cache, wallClock: SystemWallClock())
        let outcome: Result<SSOToken, SSOError>
        do throws(SSOError) {
            if deviceCode {
                outcome = .success(
                    try await login.loginWithDeviceCode(session, clock: ContinuousClock()) { authorization in
                        let page = authorization.verificationURIComplete ?? authorization.verificationURI
                        writeToStandardError(
                            "To sign in to \(label), open \(authorization.verificationURI) and enter the code \(authorization.userCode)\n"
                                + (authorization.verificationURIComplete.map { "(or open \($0), which fills in the code)\n" } ?? "")
                                + "Waiting for the approval…\n")
                        if openBrowser { _ = try? BrowserCommand.start(page, environment: environment) }
                    })
            } else {
                outcome = .success(
                    try await login.loginWithBrowser(session, clock: ContinuousClock()) { url in
                        writeToStandardError(
                            "Opening the sign-in page for \(label) in the browser. If it does not open, visit:\n\n  \(url)\n\n"
                                + "Waiting for the browser (or run: credd login \(label) --device-code)…\n")
                        try await BrowserCommand.open(url, environment: environment)
                    })
            }
        } catch {
            outcome = .failure(error)
        }
        try? await http.shutdown()
        let token: SSOToken
        switch outcome {
        case .success(let signedIn): token = signedIn
        case .failure(let error):
            printError("credd: \(describe(error, session: label))")
            throw ExitCode.failure
        }
        let now = SystemWallClock().now()
        let renewal =
            token.canRefresh(at: now)
            ? "credd renews it until the Identity Center session ends"
            : "it cannot be refreshed (\(token.refreshBlocker(at: now)?.explanation ?? "no refresh token")), so sign in again then"
        print("Signed in to \(label): the token is valid until \(AWSTimestamp.format(token.expiresAt)); \(renewal).")
    }

    /// `~/.aws/sso/cache`, shared with the AWS CLI.
    static func tokenCache(_ environment: [String: String]) throws -> SSOTokenCache {
        guard let home = environment["HOME"], !home.isEmpty else {
            printError("credd: HOME is not set, so ~/.aws/sso/cache cannot be found; set HOME")
            throw ExitCode.failure
        }
        return SSOTokenCache(home: home)
    }

    /// The error, with the sign-in command for this session where a new sign-in is what helps.
    static func describe(_ error: SSOError, session: String) -> String {
        "\(error)".replacingEvery("credd login SESSION", with: "credd login \(session)")
    }
}

/// The browser `credd login` opens: `$CREDD_BROWSER`, else the first command of `$BROWSER` (as
/// the AWS CLI v2 and Python's `webbrowser` read it), else `xdg-open`. A `%s` in the command is
/// replaced by the URL; otherwise the URL is the last argument.
enum BrowserCommand {
    static func commandLine(for url: String, environment: [String: String]) throws(CommandLineSplitter.Failure) -> [String] {
        let configured =
            environment["CREDD_BROWSER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["BROWSER"].flatMap { $0.split(separator: ":").first.map(String.init) }
        guard let configured else { return ["xdg-open", url] }
        let arguments = try CommandLineSplitter.split(configured)
        guard arguments.contains(where: { $0.contains("%s") }) else { return arguments + [url] }
        return arguments.map { $0.replacingEvery("%s", with: url) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func start(_ url: String, environment: [String: String]) throws -> (BackgroundProcess, program: String) {
        let arguments: [String]
        do {
            arguments = try commandLine(for: url, environment: environment)
        } catch {
            throw Failure(description: "the browser command in $CREDD_BROWSER or $BROWSER cannot be split into arguments (\(error))")
        }
        return (try BackgroundProcess.start(arguments, environment: environment), arguments.first ?? "")
    }

    /// Starts the browser; a command that fails within its first three seconds (`xdg-open`
    /// with no desktop to open) fails the sign-in at once instead of leaving it waiting.
    static func open(_ url: String, environment: [String: String]) async throws {
        let (process, program) = try start(url, environment: environment)
        for _ in 0..<30 {
            if let status = process.exitStatusIfEnded() {
                guard status == 0 else { throw Failure(description: "\(program) exited with status \(status)") }
                return
            }
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                // The sign-in finished meanwhile.
                return
            }
        }
    }
}

struct SSOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sso", abstract: "IAM Identity Center: the accounts and roles a session reaches.", subcommands: [SSOProfiles.self])
}

struct SSOProfiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Print a profile for every account and role an Identity Center session reaches; --write adds the missing ones to credd's config.",
        discussion: """
            Needs a valid token from `credd login SESSION` (or `aws sso login`). Each profile is \
            [profile ACCOUNT-ROLE] with sso_session, sso_account_id and sso_role_name, its name made of letters, \
            digits, '.', '_' and '-' (the account id is added when two accounts share a name). --write appends \
            the ones credd's config lacks (no profile there takes that role with that session, and no section has \
            that name) and leaves every other byte of the file as it was.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The [sso-session] (or a profile using it).") var session: String
    @Flag(help: "Add the missing profiles to credd's config.") var write = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try options.load(environment)
        let lookup = SSOSessionLookup(configuration: configuration)
        let sessionName: String
        let ssoSession: SSOSession
        switch lookup.resolve(session) {
        case .sso(let resolved):
            guard let name = resolved.name else {
                printError("credd: '\(session)' is a legacy profile (sso_start_url on the profile); profiles need an [sso-session]")
                throw ExitCode.failure
            }
            (sessionName, ssoSession) = (name, resolved)
        case .invalid(let problem):
            printError("credd: \(problem)")
            throw ExitCode.failure
        case .notSSO:
            printError(
                "credd: no [sso-session \(session)] in \(configuration.settings.configFile) or \(configuration.settings.awsConfigFile), and no profile using one"
            )
            throw ExitCode.failure
        }
        let blocks = try await Self.reachableProfiles(ssoSession, environment: environment)
        guard write else {
            print(blocks.map { $0.text(sessionName: sessionName) }.joined(separator: "\n"), terminator: "")
            return
        }
        let missing = blocks.filter { lookup.existingProfile(sessionName: sessionName, accountId: $0.accountId, roleName: $0.roleName) == nil }
        let file = configuration.settings.configFile
        let added: [String]
        do {
            added = try CredentialsFileWriter(path: file, clock: SystemWallClock()).appendMissingSections(
                missing.map { .init(name: "profile \($0.name)", entries: $0.entries(sessionName: sessionName)) })
        } catch {
            printError("credd: \(error)")
            throw ExitCode.failure
        }
        for block in missing {
            if added.contains("profile \(block.name)") {
                print("added [profile \(block.name)]")
            } else {
                printError("credd: [profile \(block.name)] exists already with other settings; left as it is")
            }
        }
        print(
            "\(file): \(added.count) profiles added, \(blocks.count - missing.count) already there, \(missing.count - added.count) left out (name taken)."
        )
    }

    /// ListAccounts, then ListAccountRoles for each account, with the cached token.
    private static func reachableProfiles(_ session: SSOSession, environment: [String: String]) async throws -> [SSOProfileBlock] {
        let label = session.name ?? session.startURL
        let cache = try SSOSignIn.tokenCache(environment)
        let token: SSOToken?
        do {
            token = try cache.load(sessionName: session.name, startURL: session.startURL)
        } catch {
            printError("credd: \(SSOSignIn.describe(error, session: label))")
            throw ExitCode.failure
        }
        // A minute's margin: the listing makes a call per account.
        guard let token, token.isValid(at: SystemWallClock().now().addingTimeInterval(60)) else {
            printError("credd: no valid token for Identity Center session \(label) in \(cache.directory): run credd login \(label)")
            throw ExitCode.failure
        }
        let http = SSOHTTP()
        let portal = SSOPortalClient(http: http, endpoint: SSOEndpoints(region: session.region, environment: environment).portal)
        let listing: Result<[SSOProfileBlock], SSOError>
        do throws(SSOError) {
            let accounts = try await portal.accounts(accessToken: token.accessToken)
            let roles = try await portal.roles(ofAccounts: accounts.map(\.accountId), accessToken: token.accessToken)
            listing = .success(SSOProfileCatalog.blocks(accounts: accounts, roles: roles))
        } catch {
            listing = .failure(error)
        }
        try? await http.shutdown()
        switch listing {
        case .success(let blocks): return blocks
        case .failure(let error):
            printError("credd: \(SSOSignIn.describe(error, session: label))")
            throw ExitCode.failure
        }
    }
}
