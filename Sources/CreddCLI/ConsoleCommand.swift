import ArgumentParser
import CreddConfig
import CreddControl
import CreddCore
import CreddPlatform
import CreddSTS
import FoundationEssentials
import Glibc

struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to the AWS console as a role profile, in the browser (xdg-open) or by printing the sign-in URL.",
        discussion: """
            Exchanges the profile's current role session (from the daemon) for a sign-in token at the AWS \
            federation endpoint (signin.aws.amazon.com, or the aws-cn or aws-us-gov one the role's ARN names), \
            then opens the sign-in URL with xdg-open, through a page only you can read in credd's runtime \
            directory: the URL signs anyone in for 15 minutes, and other users can read a program's arguments. \
            --print writes the URL to stdout instead. The endpoint accepts only role sessions: a profile without \
            role_arn (a GetSessionToken session) is refused, with the role profiles chained from it. \
            $CREDD_FEDERATION_ENDPOINT replaces the federation endpoint.
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "A managed role profile (one with role_arn).", completion: .profileNames) var profile: String
    @Flag(help: "Print the sign-in URL (a secret for 15 minutes) instead of opening it.") var print = false

    /// How long an opened sign-in page stays: the sign-in token's life.
    static let pageLifetime: TimeInterval = 15 * 60

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let loaded = try options.load(environment)
        guard let managed = loaded.profiles.first(where: { $0.name == profile }) else {
            printError("credd: no managed profile \(profile) in \(loaded.settings.configFile) (see credd list)")
            throw ExitCode.failure
        }
        guard let roleArn = managed.roleArn else {
            printError("credd: \(Self.sessionRefusal(managed, in: loaded))")
            throw ExitCode.failure
        }

        var response = try DaemonConnection.send(ControlRequest(command: .credentials, profile: profile))
        if !response.ok {
            try MFACode.obtainIfNeeded(for: profile)
            response = try DaemonConnection.call(ControlRequest(command: .credentials, profile: profile))
        }
        guard let served = response.credentials else {
            printError("credd: the daemon sent no credentials for \(profile)")
            throw ExitCode.failure
        }
        let credentials = AWSCredentials(
            accessKeyId: served.accessKeyId, secretAccessKey: served.secretAccessKey, sessionToken: served.sessionToken,
            expiration: served.expiration.flatMap(AWSTimestamp.parse))

        let signIn = ConsoleSignIn(roleArn: roleArn, region: managed.region, environment: environment)
        let transport = HTTPClientSTSTransport()
        let url: Secret
        do {
            url = try await signIn.loginURL(for: credentials, transport: transport)
            try? await transport.shutdown()
        } catch {
            try? await transport.shutdown()
            printError("credd: \(profile): \(error)")
            throw ExitCode.failure
        }
        if print {
            Swift.print(url.revealed)
        } else {
            try open(url, environment: environment)
        }
    }

    /// A GetSessionToken session cannot sign in to the console (the federation endpoint wants a
    /// role); aws-vault would call GetFederationToken with the long-term keys, which loses MFA.
    static func sessionRefusal(_ profile: ManagedProfile, in loaded: LoadedConfiguration) -> String {
        let roles = loaded.profiles.filter { $0.roleArn != nil && $0.sourceChain.contains(profile.name) }.map(\.name)
        let suggestion =
            roles.isEmpty
            ? "add a profile with role_arn and source_profile = \(profile.name), then run credd console on it"
            : "use a role chained from it: " + roles.map { "credd console \($0)" }.joined(separator: ", ")
        return "\(profile.name) is a GetSessionToken session (no role_arn); the console's federation endpoint signs in only"
            + " role sessions: \(suggestion)"
    }

    /// Hands `url` to the browser through a page in the private runtime directory, never on a
    /// command line. The page lives as long as the token in it; each run removes the expired ones.
    private func open(_ url: Secret, environment: [String: String]) throws {
        let paths = RuntimePaths(environment: environment)
        do {
            try paths.prepare()
        } catch {
            printError("credd: \(error); use credd console \(profile) --print")
            throw ExitCode.failure
        }
        Self.removeExpiredPages(in: paths.directory, now: SystemWallClock().now())
        let page = paths.directory + "/console-\(UUID().uuidString).html"
        func escaped(_ text: String) -> String {
            text.replacingEvery("&", with: "&amp;").replacingEvery("\"", with: "&quot;").replacingEvery("<", with: "&lt;")
                .replacingEvery(">", with: "&gt;")
        }
        let html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
            <meta http-equiv="refresh" content="0;url=\(escaped(url.revealed))"><title>credd: AWS console sign-in</title></head>
            <body><a href="\(escaped(url.revealed))">Sign in to the AWS console as \(escaped(profile))</a></body></html>

            """
        let descriptor = Glibc.open(page, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            printError("credd: cannot write \(page): \(String(cString: strerror(errno))); use credd console \(profile) --print")
            throw ExitCode.failure
        }
        let bytes = Array(html.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else {
            unlink(page)
            printError("credd: cannot write \(page); use credd console \(profile) --print")
            throw ExitCode.failure
        }
        switch ForegroundProcess.run(["xdg-open", "file://" + page]) {
        case .success(0):
            Swift.print("opened the AWS console for \(profile) in your browser")
        case let .success(status):
            unlink(page)
            printError("credd: xdg-open failed (exit status \(status)); use credd console \(profile) --print")
            throw ExitCode.failure
        case let .failure(error):
            unlink(page)
            printError("credd: cannot run xdg-open: \(error) (install xdg-utils, or use credd console \(profile) --print)")
            throw ExitCode.failure
        }
    }

    /// Removes sign-in pages whose token has expired.
    static func removeExpiredPages(in directory: String, now: Date) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix("console-") && name.hasSuffix(".html") {
            let path = directory + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            if now.timeIntervalSince1970 - TimeInterval(status.st_mtim.tv_sec) > pageLifetime { unlink(path) }
        }
    }
}
