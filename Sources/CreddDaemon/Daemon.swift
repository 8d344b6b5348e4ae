import CreddConfig
import CreddCore
import CreddEndpoint
import CreddPlatform
import CreddRefresh
import CreddRotation
import CreddSTS
import CreddSystemd
import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The composition root: wires configuration, the refresh engine, the STS renewer, the
/// credentials file, the endpoint, the control socket and systemd, and runs them until SIGTERM.
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
        let startup = StartupConfiguration.load(explicitPath: configPath, environment: environment)
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

        // Trapped before the services start, so that SIGTERM shuts down gracefully from here on.
        // Not ServiceGroup's own signal handling, which begins only in `run()`.
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)

        let directory = ProfileDirectory(configuration)
        let transport = HTTPClientSTSTransport()
        let output = CredentialsOutput(profiles: directory, wallClock: wallClock, logger: logger)
        let served = EngineCredentialSource(profiles: directory, wallClock: wallClock)
        let keyring = SessionKeyring(scope: configuration.settings.configFile, profiles: directory, wallClock: wallClock, logger: logger)
        let specs = ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys())
        let engine = RefreshEngine(
            profiles: specs,
            renewer: STSRenewer(profiles: directory, transport: transport, wallClock: wallClock, logger: logger),
            sink: CredentialSinks(sinks: [served, output, keyring]),
            wallClock: wallClock,
            logger: logger
        )
        // Before the first pass: adopted profiles are served at once, and dependents renew
        // with an adopted source session instead of waiting for it.
        await SessionAdoption.adopt(
            into: engine, specs: specs, configuration: configuration, keyring: keyring, wallClock: wallClock, logger: logger)
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
        let control: ControlServer
        do {
            (port, endpointProblem) = try await listen(
                endpoint, adopting: activated.endpoints, settings: settings, tokenFile: paths.tokenFile, logger: logger)
            if let descriptor = activated.control {
                control = try await ControlServer.adopt(descriptor: descriptor, path: paths.controlSocket, logger: logger)
            } else {
                control = try await ControlServer.bind(path: paths.controlSocket, logger: logger)
            }
        } catch {
            try? await transport.shutdown()
            throw error
        }

        let rotation = RotationScheduler(
            plan: RotationPlan(configuration),
            rotator: LiveKeyRotator(
                transport: transport, iamEndpoint: Result { () throws(AWSQueryError) in try IAMEndpoint.resolve(environment: environment) },
                wallClock: wallClock, logger: logger),
            signingSession: { names in await firstSession(of: names, engine: engine) },
            wallClock: wallClock, clock: ContinuousClock(), logger: logger)
        let notifier = SystemdNotifiers.make(environment: environment)
        let desktopState = DesktopState()
        let desktop = DesktopNotifier(
            environment: environment, engine: engine, rotation: rotation, profiles: directory, state: desktopState, wallClock: wallClock,
            logger: logger)
        let runtime = DaemonRuntime(
            configPath: configPath, environment: environment, engine: engine, output: output, profiles: directory, rotation: rotation,
            endpointHost: settings.listenHost, endpointPort: port, endpointProblem: endpointProblem, paths: paths,
            startedAt: wallClock.now(), desktop: desktopState, logger: logger)
        if startup.loadedConfigFile {
            await output.removeOrphanedSections(keeping: Set(configuration.errors.compactMap(\.profile)))
        }
        logger.info("credd \(CreddVersion.number) started", metadata: [
            "credd.event": "started", "credd.endpoint": "\(settings.listenHost):\(port)",
            "credd.profiles": "\(configuration.profiles.count)",
            "credd.socket_activated": "\(!activated.isEmpty)",
        ])

        // The engine's status changes have one consumer, which hands them to the endpoint (its
        // reason for a profile with nothing to serve) and on to systemd's STATUS= line.
        // STATUS= summarises every profile, so changes that queue up while it is being built
        // coalesce into one rebuild (a pass of 1,000 renewals would otherwise rebuild it per change).
        let (statusChanges, statusContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let endpointAlive = Atomic<Bool>(true)
        let reloadRequests = ReloadTriggers(watching: configuration.watchedFiles, logger: logger)
        var services: [any Service] = [
            ClosureService { await untilGracefulShutdown { await engine.run() } },
            ClosureService {
                await untilGracefulShutdown {
                    for await status in engine.statusChanges {
                        served.record(status)
                        statusContinuation.yield()
                        desktop.statusChanged()
                    }
                    statusContinuation.finish()
                }
            },
            ClosureService {
                await untilGracefulShutdown {
                    do {
                        try await endpoint.run()
                    } catch is CancellationError {
                        // A normal shutdown.
                    } catch {
                        logger.critical("the credential endpoint stopped: \(error)")
                    }
                    endpointAlive.store(false, ordering: .relaxed)
                }
            },
            ClosureService { await untilGracefulShutdown { await control.run(handler: runtime.handle) } },
            ClosureService {
                await untilGracefulShutdown {
                    // Renewals at start sign with the keys as loaded; rotating under them could
                    // delete the key a first renewal is about to use.
                    await engine.waitForFirstPass()
                    await rotation.run(observer: DesktopRotationObserver(inner: runtime, desktop: desktop))
                }
            },
            ClosureService {
                await untilGracefulShutdown {
                    for await _ in reloadRequests.events {
                        let answersHangup = reloadRequests.takeHangupRequest()
                        if answersHangup { notifier.send(.reloadingNow(), loggingFailureTo: logger) }
                        await runtime.reload()
                        statusContinuation.yield()  // STATUS= names config errors
                        desktop.statusChanged()  // `notifications` may have changed
                        if answersHangup { notifier.send(.ready, loggingFailureTo: logger) }
                    }
                }
            },
            ClosureService {
                await untilGracefulShutdown {
                    await engine.waitForFirstPass()
                    notifier.send(.ready, loggingFailureTo: logger)
                    await keepStatusCurrent(
                        engine: engine, profiles: directory, changes: statusChanges, notifier: notifier, wallClock: wallClock, logger: logger)
                }
            },
            ClosureService {
                try? await gracefulShutdown()
                notifier.send(.stopping, loggingFailureTo: logger)
            },
            desktop,
            ResumeWatcher(environment: environment, engine: engine, logger: logger),
        ]
        if let watchdog = watchdogSettings(logger: logger) {
            services.append(ClosureService {
                await untilGracefulShutdown {
                    await Watchdog(settings: watchdog, notifier: notifier, clock: ContinuousClock(), logger: logger) {
                        // Healthy while the endpoint serves and the engine's actor answers: a
                        // wedged engine never returns here, so the pings stop.
                        guard endpointAlive.load(ordering: .relaxed) else { return false }
                        _ = await engine.statuses()
                        return true
                    }.run()
                }
            })
        }

        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: logger
        )
        // An idle client connection must not hold a shutdown open (systemd would SIGKILL).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        let signalHandling = Task {
            for await signal in signals {
                if signal == .sighup {
                    reloadRequests.hangup()
                } else {
                    logger.info("\(signal): shutting down")
                    await group.triggerGracefulShutdown()
                }
            }
        }
        do {
            try await group.run()
        } catch {
            logger.error("shutdown: \(error)")
        }
        signalHandling.cancel()
        await signalHandling.value
        reloadRequests.stop()
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

    /// Keeps systemd's one-line `STATUS=` in step with the profiles' states and the config's errors.
    private static func keepStatusCurrent(
        engine: RefreshEngine, profiles: ProfileDirectory, changes: AsyncStream<Void>, notifier: any SystemdNotifier,
        wallClock: any WallClock, logger: Logger
    ) async {
        var last = ""
        func publish() async {
            let line = ProfileStatus.summary(
                of: await engine.statuses(), configErrors: profiles.configErrors, now: wallClock.now(), secondsFromGMT: LocalTime.secondsFromGMT)
            guard line != last else { return }
            last = line
            notifier.send(.status(line), loggingFailureTo: logger)
        }
        await publish()
        for await _ in changes { await publish() }
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

/// Runs `body` until it returns or a graceful shutdown begins, whichever is first.
private func untilGracefulShutdown(_ body: @escaping @Sendable () async -> Void) async {
    _ = await cancelWhenGracefulShutdown { await body() }
}
