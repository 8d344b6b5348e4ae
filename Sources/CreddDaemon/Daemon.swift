import CreddConfig
import CreddControl
import CreddCore
import CreddEndpoint
import CreddPlatform
import CreddRefresh
import CreddRotation
import CreddSSO
import CreddSTS
import CreddSystemd
import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import UnixSignals

/// The composition root: wires configuration, the refresh engine, the STS renewer, the
/// credentials file, the endpoint, the control socket and systemd, and runs the long-running
/// parts as services of one ServiceGroup until SIGTERM.
public enum Daemon {
    /// Runs `credd run`. Returns after a clean shutdown; throws if the daemon cannot start (no
    /// private runtime directory, core dumps cannot be turned off). A config file or activated
    /// socket that is wrong does not stop it: it serves what it can and reports the problem.
    public static func run(configPath: String?, environment: [String: String]) async throws(DaemonError) {
        let wallClock = SystemWallClock()
        let logLevel = environment["CREDD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap(CreddLogging.bootstrapHandler(environment: environment, logLevel: logLevel, clock: wallClock))
        let logger = Logger(label: "credd")
        // Before anything secret is read.
        try CoreDumps.disable()

        let paths = RuntimePaths(environment: environment)
        try paths.prepare()
        let activated = ActivatedSockets.take(expectedControlPath: paths.controlSocket)
        let keyringKeys = SecretServiceKeys(environment: environment)
        let startup = StartupConfiguration.load(
            explicitPath: configPath, environment: environment, keyringProfiles: await keyringKeys.profileNames())
        let loadedFiles = FileStamps(of: startup.configuration.watchedFiles)
        for problem in startup.configuration.errors {
            logger.error("config: \(problem)", metadata: ["credd.event": "config_error"])
        }
        for problem in activated.problems {
            logger.error("socket activation: \(problem)", metadata: ["credd.event": "socket_activation_error"])
        }
        // Activation problems show in `credd status` beside the config's, until the next reload.
        let configuration = LoadedConfiguration(
            settings: startup.configuration.settings, profiles: startup.configuration.profiles,
            errors: startup.configuration.errors + activated.problems.map { ConfigError(file: "", message: "socket activation: \($0)") },
            watchedFiles: startup.configuration.watchedFiles)
        let token = ContainerToken.kept(at: paths.tokenFile) ?? ContainerToken.generate()
        do {
            try ContainerToken.write(token, to: paths.tokenFile)
        } catch {
            throw DaemonError.runtimeDirectory(paths.tokenFile, "\(error)")
        }

        // Trapped before the services start, so that SIGTERM shuts down gracefully from here on
        // (see `SignalHandling`).
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)

        let directory = ProfileDirectory(configuration)
        let transport = HTTPClientSTSTransport()
        let output = CredentialsOutput(profiles: directory, wallClock: wallClock, logger: logger)
        let served = EngineCredentialSource(profiles: directory, wallClock: wallClock)
        let keyring = SessionKeyring(scope: configuration.settings.configFile, profiles: directory, wallClock: wallClock, logger: logger)
        let specs = ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys())
        let ssoHTTP = SSOHTTP()
        let ssoSessions = SSOSessions(
            cache: SSOTokenCache(home: environment["HOME"] ?? ""), http: ssoHTTP, environment: environment, wallClock: wallClock, logger: logger)
        await ssoSessions.update(configuration.profiles)
        let engine = RefreshEngine(
            profiles: specs,
            renewer: SSORenewer(
                profiles: directory, sessions: ssoSessions,
                sts: STSRenewer(profiles: directory, transport: transport, wallClock: wallClock, logger: logger, keyring: keyringKeys)),
            sink: CredentialSinks(sinks: [served, output, keyring]),
            wallClock: wallClock,
            logger: logger
        )
        // Before the first pass: adopted profiles are served at once, and dependents renew
        // with an adopted source session instead of waiting for it.
        await SessionAdoption.adopt(
            into: engine, specs: specs, configuration: configuration, keyring: keyring, wallClock: wallClock, logger: logger)
        // Applied before any service starts: the endpoint's first answer already has them.
        await engine.deliverQueued()
        let settings = configuration.settings
        let endpoint = CredentialEndpoint(
            configuration: EndpointConfiguration(
                host: settings.listenHost, port: settings.listenPort, imdsProfile: settings.imdsProfile,
                containerToken: token),
            source: served,
            wallClock: wallClock,
            logger: logger
        )
        let port: Int
        let endpointProblem: String?
        do {
            (port, endpointProblem) = try await listen(
                endpoint, adopting: activated.endpoints, settings: settings, tokenFile: paths.tokenFile, logger: logger)
        } catch {
            await ssoSessions.stop()
            try? await ssoHTTP.shutdown()
            try? await transport.shutdown()
            throw error
        }

        let rotation = RotationScheduler(
            plan: RotationPlan(configuration),
            rotator: LiveKeyRotator(transport: transport, environment: environment, wallClock: wallClock, logger: logger),
            signingSession: { names in await firstSession(of: names, engine: engine) },
            wallClock: wallClock, clock: EventLoopClock(), logger: logger)
        let notifier = SystemdNotifiers.make(environment: environment)
        let desktopState = DesktopState()
        let desktop = DesktopNotifier(
            environment: environment, engine: engine, rotation: rotation, profiles: directory, state: desktopState, wallClock: wallClock,
            logger: logger)
        let runtime = DaemonRuntime(
            configPath: configPath, environment: environment, engine: engine, output: output, profiles: directory, rotation: rotation,
            ssoSessions: ssoSessions,
            endpointHost: settings.listenHost, endpointPort: port, endpointProblem: endpointProblem, paths: paths,
            startedAt: wallClock.now(), desktop: desktopState, logger: logger, keyring: keyringKeys,
            keptSessions: DaemonRuntime.KeptSessions(keyring: keyring, wallClock: wallClock))
        let control: ControlServer
        do {
            if let descriptor = activated.control {
                control = try await ControlServer.adopt(descriptor: descriptor, path: paths.controlSocket, logger: logger, handler: runtime.handle)
            } else {
                control = try await ControlServer.bind(path: paths.controlSocket, logger: logger, handler: runtime.handle)
            }
        } catch {
            await ssoSessions.stop()
            try? await ssoHTTP.shutdown()
            try? await transport.shutdown()
            throw error
        }
        if startup.loadedConfigFile {
            await output.removeOrphanedSections(keeping: Set(configuration.errors.compactMap(\.profile)))
        }
        logger.info(
            "credd \(CreddVersion.number) started",
            metadata: [
                "credd.event": "started", "credd.endpoint": "\(settings.listenHost):\(port)",
                "credd.profiles": "\(configuration.profiles.count)",
                "credd.socket_activated": "\(!activated.isEmpty)",
            ])

        let status = DaemonStatus(
            engine: engine, profiles: directory, served: served, ssoSessions: ssoSessions, desktop: desktop, notifier: notifier, wallClock: wallClock,
            logger: logger)
        let reloads = ReloadTriggers(watching: configuration.watchedFiles, asLoaded: loadedFiles, logger: logger) { answersHangup in
            if answersHangup { notifier.send(.reloadingNow(), loggingFailureTo: logger) }
            await runtime.reload()
            status.update()  // STATUS= names config errors; `notifications` may have changed
            if answersHangup { notifier.send(.ready, loggingFailureTo: logger) }
        }
        // Started in this order and shut down gracefully in reverse, each after the one after it
        // has stopped: STOPPING=1 first, the engine's last batch into the file last. Each is named:
        // ServiceLifecycle's default name is `"\(service)"`, whose reflection of every stored
        // property cost about a fifth of start-up's CPU in the static binary.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: SignalHandling(signals: signals, reloads: reloads, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup,
                serviceName: "signals"),
            .init(service: output, serviceName: "output"),
            .init(service: engine, serviceName: "engine"),
            .init(service: endpoint, serviceName: "endpoint"),
            .init(service: control, serviceName: "control"),
            .init(
                service: ScheduledRotation(scheduler: rotation, observer: DesktopRotationObserver(inner: runtime, desktop: desktop), engine: engine),
                serviceName: "rotation"),
            .init(service: reloads, serviceName: "reloads"),
            .init(service: SSOSignIns(sessions: ssoSessions, runtime: runtime, status: status), serviceName: "sso-sign-ins"),
            .init(service: desktop, serviceName: "desktop"),
            .init(service: ResumeWatcher(environment: environment, engine: engine, logger: logger), serviceName: "resume"),
            .init(service: KeyringUnlocks(unlocks: keyringKeys.unlocks, engine: engine, logger: logger), serviceName: "keyring-unlocks"),
        ]
        if let watchdog = watchdogSettings(logger: logger) {
            services.append(
                .init(
                    service: Watchdog(settings: watchdog, notifier: notifier, clock: EventLoopClock(), logger: logger) {
                        // Healthy while the endpoint serves and the engine's actor answers: a wedged
                        // engine never returns here, so the pings stop.
                        guard !endpoint.hasStopped else { return false }
                        _ = await engine.statuses()
                        return true
                    }, serviceName: "watchdog"))
        }
        services.append(.init(service: status, serviceName: "status"))

        var groupConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        // An idle client connection must not hold a shutdown open (systemd would SIGKILL).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            logger.error("shutdown: \(error)")
        }
        await ssoSessions.stop()
        try? await ssoHTTP.shutdown()
        try? await transport.shutdown()
        if activated.control == nil { unlink(paths.controlSocket) }
        logger.info("credd stopped", metadata: ["credd.event": "stopped"])
    }

    private static func listen(
        _ endpoint: CredentialEndpoint, adopting descriptors: [CInt], settings: DaemonSettings, tokenFile: String, logger: Logger
    ) async throws(DaemonError) -> (port: Int, problem: String?) {
        do {
            switch try await endpoint.listen(adopting: descriptors) {
            case .serving(let port):
                return (port, nil)
            case .portHeld(let error):
                // Runs on without the endpoint; no token for clients to send to whoever holds the port.
                logger.error("\(error)", metadata: ["credd.event": "endpoint-port-held"])
                unlink(tokenFile)
                return (settings.listenPort, "\(error)")
            }
        } catch {
            throw DaemonError.configuration("cannot listen on \(settings.listenHost):\(settings.listenPort): \(error)")
        }
    }

    private static func watchdogSettings(logger: Logger) -> WatchdogSettings? {
        do {
            return try WatchdogSettings.fromEnvironment()
        } catch {
            logger.warning("watchdog: \(error)")
            return nil
        }
    }
}

/// The served session of the first of `names` that has one: MFA sessions sign IAM calls, as
/// `credd rotate` does, so MFA-guarded IAM policies pass.
private func firstSession(of names: [String], engine: RefreshEngine) async -> AWSCredentials? {
    for name in names {
        if let credentials = await engine.credentials(for: name) { return credentials }
    }
    return nil
}
