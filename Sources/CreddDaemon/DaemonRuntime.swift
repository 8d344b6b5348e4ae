import CreddConfig
import CreddControl
import CreddCore
import CreddRefresh
import CreddRotation
import FoundationEssentials
import Glibc
import Logging

/// The running daemon as the control socket and reloads see it.
actor DaemonRuntime: RotationObserver {
    private let configPath: String?
    private let environment: [String: String]
    private let engine: RefreshEngine
    private let output: CredentialsOutput
    private let profiles: ProfileDirectory
    private let rotation: RotationScheduler
    private let ssoSessions: SSOSessions
    private let endpointHost: String
    private let endpointPort: Int
    /// Why the endpoint does not serve, when its port is held by another program.
    private let endpointProblem: String?
    private let paths: RuntimePaths
    private let startedAt: Date
    private let desktop: DesktopState
    private let logger: Logger
    private let keyring: any KeyringKeys
    /// Where sessions of earlier runs are kept, for profiles a reload adds.
    private let keptSessions: KeptSessions

    /// What a profile a reload adds may adopt: a still-valid session of its identity that an
    /// earlier run left (a daemon started while the config was empty or missing).
    struct KeptSessions: Sendable {
        let keyring: SessionKeyring
        let wallClock: any WallClock
    }

    init(
        configPath: String?, environment: [String: String], engine: RefreshEngine, output: CredentialsOutput,
        profiles: ProfileDirectory, rotation: RotationScheduler, ssoSessions: SSOSessions, endpointHost: String, endpointPort: Int,
        endpointProblem: String?, paths: RuntimePaths, startedAt: Date,
        desktop: DesktopState, logger: Logger, keyring: any KeyringKeys, keptSessions: KeptSessions
    ) {
        self.keyring = keyring
        self.keptSessions = keptSessions
        self.configPath = configPath
        self.environment = environment
        self.engine = engine
        self.output = output
        self.profiles = profiles
        self.rotation = rotation
        self.ssoSessions = ssoSessions
        self.endpointHost = endpointHost
        self.endpointPort = endpointPort
        self.endpointProblem = endpointProblem
        self.paths = paths
        self.startedAt = startedAt
        self.desktop = desktop
        self.logger = logger
    }

    nonisolated func handle(_ request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case .status:
            return ControlResponse(ok: true, status: await statusDocument())
        case .refresh:
            return await refresh(request.profiles)
        case .login:
            return await login(request.profile, code: request.code)
        case .credentials:
            return await credentials(request.profile)
        case .environment:
            return environmentInfo(request.profile)
        case .reload:
            await reload()
            let errors = profiles.configErrors
            return ControlResponse(ok: errors.isEmpty, error: errors.isEmpty ? nil : errors.joined(separator: "\n"), message: "config reloaded")
        }
    }

    // MARK: - Reload

    /// Re-reads the config. Profiles that are broken in the new config keep running with their
    /// last good definition (so does one whose source keys vanished from a credentials file read
    /// mid-rewrite); a config that cannot be read at all, or is empty, changes nothing.
    func reload() async {
        let loaded: LoadedConfiguration
        let keyringProfiles = await keyring.profileNames()
        do {
            loaded = try ConfigLoader.load(explicitPath: configPath, environment: environment, keyringProfiles: keyringProfiles)
        } catch {
            logger.error("config reload failed, keeping the running config: \(error)")
            profiles.setConfigErrors(["\(error) (the last good config stays in force)"])
            return
        }
        let previous = profiles.configuration
        let broken = Set(loaded.errors.compactMap(\.profile))
        let globalErrors = loaded.errors.filter { $0.profile == nil }
        let kept: LoadedConfiguration
        if globalErrors.isEmpty {
            let carried = previous.profiles.filter { broken.contains($0.name) && loaded.profile(named: $0.name) == nil }
            kept = LoadedConfiguration(
                settings: loaded.settings, profiles: loaded.profiles + carried, errors: loaded.errors,
                watchedFiles: loaded.watchedFiles)
        } else {
            kept = LoadedConfiguration(
                settings: previous.settings, profiles: previous.profiles, errors: loaded.errors,
                watchedFiles: previous.watchedFiles)
        }
        for problem in loaded.errors { logger.error("config: \(problem)") }
        if kept.settings.listenHost != previous.settings.listenHost || kept.settings.listenPort != previous.settings.listenPort
            || kept.settings.imdsProfile != previous.settings.imdsProfile
        {
            logger.warning("listen and imds_profile changes take effect at the next restart")
        }
        guard kept != previous else {
            profiles.setConfigErrors(loaded.errors.map(\.description))
            return
        }
        profiles.replace(with: kept, errors: loaded.errors.map(\.description))
        await ssoSessions.update(kept.profiles)
        let specs = ProfileSpecs.make(kept.profiles, rotatedKeys: profiles.rotatedKeys)
        let added = specs.filter { previous.profile(named: $0.name) == nil }
        await engine.update(
            profiles: specs,
            kept: SessionAdoption.keptSessions(
                for: added, configuration: kept, keyring: keptSessions.keyring, wallClock: keptSessions.wallClock, logger: logger))
        // A session whose profile moved between the file and the keyring (write_credentials
        // edited) stays in service; written where it now belongs, a restart still adopts it.
        let moved = kept.profiles.filter { previous.profile(named: $0.name).map(\.writeCredentials) == !$0.writeCredentials }
        await engine.republish(moved.map(\.name))
        await rotation.update(RotationPlan(kept))
        await output.removeOrphanedSections(keeping: broken)
        logger.info("config reloaded", metadata: ["credd.profiles": "\(kept.profiles.count)"])
    }

    // MARK: - Scheduled rotation

    func willRotate(section: String) {
        profiles.beginRotation(section: section)
    }

    /// Reads the key the rotation left in `section` in now, so the next renewal signs with it,
    /// without renewing at once (see `RotatedKeys`). Keys in the keyring need none of this: the
    /// renewer reads them at each renewal, and they are not part of the config.
    func didRotate(section: String, fileHolds: String?) async {
        if let fileHolds { profiles.finishRotation(section: section, fileHolds: fileHolds) }
        await reload()
        // The sessions in service stay; written again, they carry the new key's identity, so
        // that a restart still adopts them.
        let rotated = profiles.configuration.profiles.filter { $0.sourceChain.last == section }.map(\.name)
        await engine.republish(rotated)
        let stuck = RotationPlan.profilesToRetry(afterRotating: section, statuses: await engine.statuses(), in: profiles.configuration)
        if !stuck.isEmpty {
            logger.info(
                "renewing profiles that failed while their keys were rotated", metadata: ["credd.profiles": "\(stuck.joined(separator: ","))"])
            _ = await engine.refresh(stuck)
        }
    }

    // MARK: - IAM Identity Center

    /// The token of Identity Center session `session` changed: its profiles that are not fresh
    /// (waiting for a sign-in, or failed with the old token) renew now rather than at their next retry.
    func ssoTokenChanged(_ session: String) async {
        let users = Set(profiles.configuration.profiles.filter { $0.ssoSession?.displayName == session }.map(\.name))
        let waiting = await engine.statuses().filter { users.contains($0.name) && $0.state != .fresh && $0.state != .refreshing }
        guard !waiting.isEmpty else { return }
        logger.info(
            "renewing with the new IAM Identity Center token",
            metadata: [
                "credd.sso_session": "\(session)", "credd.profiles": "\(waiting.map(\.name).joined(separator: ","))",
            ])
        _ = await engine.refresh(waiting.map(\.name))
    }

    /// The sign-in `name`'s renewal waits for: its own session's, or that of the SSO profile
    /// its source chain starts from, while that session needs one.
    private static func loginAction(
        for status: ProfileStatus, in configuration: LoadedConfiguration, sessions: [String: SSOSessionStatus]
    ) -> ProfileAction? {
        var current = configuration.profile(named: status.name)
        var visited: Set<String> = []
        while let profile = current, visited.insert(profile.name).inserted {
            if let session = profile.ssoSession {
                guard let row = sessions[session.displayName], let command = row.loginCommand else { return nil }
                return ProfileAction(kind: .login, profile: profile.name, command: command, deadline: status.expiration)
            }
            guard case let .managed(source) = profile.source else { return nil }
            current = configuration.profile(named: source)
        }
        return nil
    }

    private static func sessionRow(_ session: SSOSessionStatus) -> StatusDocument.SSOSession {
        StatusDocument.SSOSession(
            name: session.name, startURL: session.config.startURL, region: session.config.region, state: session.state,
            tokenExpiration: session.tokenExpiration.map(AWSTimestamp.format), canRefresh: session.canRefresh,
            registrationExpiration: session.registrationExpiration.map(AWSTimestamp.format),
            loginNeededAt: session.loginNeededAt.map(AWSTimestamp.format), lastRefresh: session.lastRefresh.map(AWSTimestamp.format),
            error: session.error,
            // The session's end, when known, is what the user has until.
            action: session.loginCommand.map { command in
                StatusDocument.Action(
                    kind: ProfileAction.Kind.login.rawValue, profile: session.loginName, command: command,
                    deadline: [session.loginNeededAt, session.tokenExpiration].compactMap { $0 }.min().map(AWSTimestamp.format),
                    mfaSerial: nil)
            })
    }

    // MARK: - Commands

    private func statusDocument() async -> StatusDocument {
        let configuration = profiles.configuration
        let statuses = await engine.statuses()
        let byName = Dictionary(statuses.map { ($0.name, $0) }) { first, _ in first }
        let broken = Set(configuration.errors.compactMap(\.profile))
        let rotations = await rotation.statuses(of: configuration)
        let sessions = await ssoSessions.statuses()
        let sessionsByName = Dictionary(sessions.map { ($0.name, $0) }) { first, _ in first }
        let rows = statuses.map { status -> StatusDocument.Profile in
            let profile = configuration.profile(named: status.name)
            let fileProblem = profiles.writeError(for: status.name).map { "credentials file: \($0)" }
            let action =
                Self.loginAction(for: status, in: configuration, sessions: sessionsByName)
                ?? ProfileAction.needed(by: status) { byName[$0] }
                ?? (broken.contains(status.name) ? ProfileAction.fixConfig(status.name, deadline: status.expiration) : nil)
            // A profile waiting for a code or a sign-in says so in words, whatever its last error was.
            let waitsForCode = action.map { $0.kind == .mfaCode || $0.kind == .login } ?? false
            let reason = waitsForCode ? action?.reason(for: status.name) : nil
            return StatusDocument.Profile(
                name: status.name,
                state: status.state.rawValue,
                expiration: status.expiration.map(AWSTimestamp.format),
                nextRefresh: status.nextRefresh.map(AWSTimestamp.format),
                lastRefresh: status.lastRefresh.map(AWSTimestamp.format),
                source: profile.map(Self.describeSource) ?? "-",
                error: reason ?? status.lastError ?? fileProblem ?? action?.reason(for: status.name),
                action: action.map { action in
                    StatusDocument.Action(
                        kind: action.kind.rawValue, profile: action.profile, command: action.command,
                        deadline: action.deadline.map(AWSTimestamp.format),
                        mfaSerial: action.kind == .mfaCode ? configuration.profile(named: action.profile)?.mfaSerial : nil)
                },
                rotation: rotations[status.name]
            )
        }
        return StatusDocument(
            daemon: StatusDocument.Daemon(
                pid: getpid(), version: CreddVersion.number, startedAt: AWSTimestamp.format(startedAt),
                configFile: configuration.settings.configFile,
                credentialsFile: configuration.settings.credentialsFile,
                endpoint: endpointProblem == nil ? "http://\(endpointHost):\(endpointPort)" : nil,
                endpointError: endpointProblem,
                configErrors: profiles.configErrors, desktop: desktop.current),
            profiles: rows,
            ssoSessions: sessions.map(Self.sessionRow))
    }

    static func describeSource(_ profile: ManagedProfile) -> String {
        let chain = profile.sourceChain.dropFirst().joined(separator: " > ")
        switch profile.source {
        case .managed:
            return chain
        case .staticKeys:
            return chain.isEmpty ? "static keys" : "\(chain) (keys)"
        case .secretService:
            return "\(chain) (keyring)"
        case .credentialProcess:
            return chain.isEmpty ? "credential_process" : "\(chain) (credential_process)"
        case let .ssoSession(session):
            return "sso-session \(session.displayName)"
        }
    }

    private func unknownProfiles(_ names: [String]) -> [String] {
        let configuration = profiles.configuration
        return names.filter { configuration.profile(named: $0) == nil }
    }

    private func refresh(_ names: [String]) async -> ControlResponse {
        let unknown = unknownProfiles(names)
        guard unknown.isEmpty else { return .failure("not a managed profile: \(unknown.joined(separator: ", "))") }
        // An SSO profile's refresh starts with its session's access token, so that a session
        // that ended shows as needing a sign-in now rather than at the token's next refresh.
        let configuration = profiles.configuration
        var refreshed: Set<String> = []
        for profile in configuration.profiles where names.isEmpty || names.contains(profile.name) {
            guard let session = profile.ssoSession, refreshed.insert(session.displayName).inserted else { continue }
            await ssoSessions.refreshToken(for: session)
        }
        let outcomes = await engine.refresh(names.isEmpty ? nil : names)
        let lines = outcomes.map { outcome -> String in
            switch outcome.result {
            case let .success(status):
                return "\(outcome.profile): \(status.state.rawValue)" + (status.lastError.map { " (\($0))" } ?? "")
            case let .failure(failure):
                return "\(outcome.profile): \(failure.message)"
            }
        }
        let failed = outcomes.contains { outcome in
            switch outcome.result {
            case .failure: true
            case let .success(status): status.state != .fresh
            }
        }
        return ControlResponse(ok: !failed, error: failed ? lines.joined(separator: "\n") : nil, message: lines.joined(separator: "\n"))
    }

    /// Logs in the nearest profile of `name`'s chain (itself first) that takes an MFA code, and
    /// when that is a source, answers once `name` itself renewed with the new session.
    private func login(_ name: String?, code: Secret?) async -> ControlResponse {
        guard let name, let code else { return .failure("login needs a profile and a code") }
        let configuration = profiles.configuration
        guard let profile = configuration.profile(named: name) else { return .failure("not a managed profile: \(name)") }
        guard let target = profile.sourceChain.lazy.compactMap(configuration.profile(named:)).first(where: { $0.mfaSerial != nil }) else {
            return .failure(
                "\(name): no profile in its chain (\(profile.sourceChain.joined(separator: " > "))) sets mfa_serial; nothing to log in to")
        }
        let via = target.name == name ? "" : "\(name) is chained from \(target.name): logging in \(target.name)\n"
        switch await engine.login(profile: target.name, code: code) {
        case .success:
            guard target.name != name else { return ControlResponse(ok: true, message: "\(name): renewed with the MFA code") }
            let outcome = await engine.refresh([name]).first?.result
            if case let .success(status) = outcome, status.state == .fresh {
                return ControlResponse(ok: true, message: via + "\(target.name): renewed with the MFA code\n\(name): fresh")
            }
            let problem: String
            switch outcome {
            case let .success(status): problem = status.lastError ?? status.state.rawValue
            case let .failure(failure): problem = failure.message
            case nil: problem = "not renewed"
            }
            return .failure(via + "\(target.name): renewed with the MFA code, but \(name): \(problem)")
        case let .failure(failure):
            return ControlResponse(
                ok: false, error: via + "\(target.name): \(failure.message)", codeRejected: failure.disposition == .needsMFA)
        }
    }

    private func credentials(_ name: String?) async -> ControlResponse {
        guard let name else { return .failure("credential-process needs a profile") }
        guard unknownProfiles([name]).isEmpty else { return .failure("not a managed profile: \(name)") }
        guard let credentials = await engine.credentials(for: name) else {
            return .failure(await engine.unavailableReason(for: name))
        }
        return ControlResponse(ok: true, credentials: ProcessCredentials(credentials))
    }

    private nonisolated func environmentInfo(_ name: String?) -> ControlResponse {
        guard let name else { return .failure("env needs a profile") }
        if let endpointProblem { return .failure("the credential endpoint is not serving: \(endpointProblem)") }
        guard let profile = profiles.profile(named: name) else { return .failure("not a managed profile: \(name)") }
        return ControlResponse(
            ok: true,
            environment: EndpointEnvironment(
                host: endpointHost, port: endpointPort, tokenFile: paths.tokenFile, region: profile.region))
    }
}
