import CreddConfig
import CreddCore
import CreddEndpoint
import CreddRefresh
import CreddRotation
import CreddSTS
import CreddSystemd
import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// The composition root: wires configuration, the refresh engine, the STS renewer, the
/// credentials file, the endpoint, the control socket and systemd, and runs them until SIGTERM.
public enum Daemon {
    static let version = "0.1.0"

    /// Runs `credd run`. Returns after a clean shutdown; throws if the daemon cannot start.
    public static func run(configPath: String?, environment: [String: String]) async throws(DaemonError) {
        let wallClock = SystemWallClock()
        let logLevel = environment["CREDD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap(CreddLogging.bootstrapHandler(environment: environment, logLevel: logLevel, clock: wallClock))
        let logger = Logger(label: "credd")

        let configuration: LoadedConfiguration
        do {
            configuration = try ConfigLoader.load(explicitPath: configPath, environment: environment)
        } catch {
            throw DaemonError.configuration("\(error)")
        }
        for problem in configuration.errors {
            logger.error("config: \(problem)", metadata: ["credd.event": "config_error"])
        }

        let paths = RuntimePaths(environment: environment)
        try paths.prepare()
        let activated: ActivatedSockets
        do {
            activated = try ActivatedSockets.take(expectedControlPath: paths.controlSocket)
        } catch {
            throw DaemonError.configuration("socket activation: \(error)")
        }
        let token = ContainerToken.generate()
        do {
            try ContainerToken.write(token, to: paths.tokenFile)
        } catch {
            throw DaemonError.runtimeDirectory(paths.tokenFile, "\(error)")
        }

        // Not ServiceGroup's signal handling, which uses libdispatch (see ProcessSignals). From
        // here on SIGTERM shuts down gracefully, even before the services start.
        let signals = try ProcessSignals([SIGHUP, SIGTERM, SIGINT])

        let directory = ProfileDirectory(configuration)
        let transport = HTTPClientSTSTransport()
        let output = CredentialsOutput(profiles: directory, wallClock: wallClock, logger: logger)
        let served = EngineCredentialSource(profiles: directory, wallClock: wallClock)
        let engine = RefreshEngine(
            profiles: ProfileSpecs.make(configuration.profiles, rotatedKeys: RotatedKeys()),
            renewer: STSRenewer(profiles: directory, transport: transport, wallClock: wallClock, logger: logger),
            sink: CredentialSinks(sinks: [served, output]),
            wallClock: wallClock,
            logger: logger
        )
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
        let control: ControlServer
        do {
            port = try await listen(endpoint, adopting: activated.endpoints, settings: settings, tokenFile: paths.tokenFile, logger: logger)
            if let descriptor = activated.control {
                control = try await ControlServer.adopt(descriptor: descriptor, path: paths.controlSocket, logger: logger)
            } else {
                control = try await ControlServer.bind(path: paths.controlSocket, logger: logger)
            }
        } catch {
            signals.stop()
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
        let runtime = DaemonRuntime(
            configPath: configPath, environment: environment, engine: engine, output: output, profiles: directory, rotation: rotation,
            endpointHost: settings.listenHost, endpointPort: port, paths: paths,
            startedAt: wallClock.now(), logger: logger)
        await output.removeOrphanedSections(keeping: Set(configuration.errors.compactMap(\.profile)))
        logger.info("credd \(version) started", metadata: [
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
                    await rotation.run(observer: runtime)
                }
            },
            ClosureService {
                await untilGracefulShutdown {
                    for await _ in reloadRequests.events {
                        let answersHangup = reloadRequests.takeHangupRequest()
                        if answersHangup { notifier.send(.reloadingNow(), loggingFailureTo: logger) }
                        await runtime.reload()
                        if answersHangup { notifier.send(.ready, loggingFailureTo: logger) }
                    }
                }
            },
            ClosureService {
                await untilGracefulShutdown {
                    await engine.waitForFirstPass()
                    notifier.send(.ready, loggingFailureTo: logger)
                    await keepStatusCurrent(engine: engine, changes: statusChanges, notifier: notifier, wallClock: wallClock, logger: logger)
                }
            },
            ClosureService {
                try? await gracefulShutdown()
                notifier.send(.stopping, loggingFailureTo: logger)
            },
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
            for await signal in signals.received {
                if signal == SIGHUP {
                    reloadRequests.hangup()
                } else {
                    logger.info("signal \(signal): shutting down")
                    await group.triggerGracefulShutdown()
                }
            }
        }
        do {
            try await group.run()
        } catch {
            logger.error("shutdown: \(error)")
        }
        signals.stop()
        await signalHandling.value
        reloadRequests.stop()
        try? await transport.shutdown()
        if activated.control == nil { unlink(paths.controlSocket) }
        logger.info("credd stopped", metadata: ["credd.event": "stopped"])
    }

    private static func listen(
        _ endpoint: CredentialEndpoint, adopting descriptors: [CInt], settings: DaemonSettings, tokenFile: String, logger: Logger
    ) async throws(DaemonError) -> Int {
        do {
            switch try await endpoint.listen(adopting: descriptors) {
            case .serving(let port):
                return port
            case .portHeld(let error):
                // Runs on without the endpoint; no token for clients to send to whoever holds the port.
                logger.error("\(error)", metadata: ["credd.event": "endpoint-port-held"])
                unlink(tokenFile)
                return settings.listenPort
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

    /// The local time zone's offset at `date`, from the C library (TZ, /etc/localtime): Foundation's
    /// time zones other than UTC need ICU.
    private static func localSecondsFromGMT(_ date: Date) -> Int {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return 0 }
        return parts.tm_gmtoff
    }

    /// Keeps systemd's one-line `STATUS=` in step with the profiles' states.
    private static func keepStatusCurrent(
        engine: RefreshEngine, changes: AsyncStream<Void>, notifier: any SystemdNotifier, wallClock: any WallClock, logger: Logger
    ) async {
        var last = ""
        func publish() async {
            let line = ProfileStatus.summary(of: await engine.statuses(), now: wallClock.now(), secondsFromGMT: localSecondsFromGMT)
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
