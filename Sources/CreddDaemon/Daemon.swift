import CreddConfig
import CreddCore
import CreddEndpoint
import CreddRefresh
import CreddSTS
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// The composition root: wires configuration, the refresh engine, the STS renewer, the
/// credentials file, the endpoint and the control socket, and runs them until SIGTERM.
public enum Daemon {
    static let version = "0.1.0"

    /// Runs `credd run`. Returns after a clean shutdown; throws if the daemon cannot start.
    public static func run(configPath: String?, environment: [String: String]) async throws(DaemonError) {
        let logger = makeLogger(environment: environment)
        let wallClock = SystemWallClock()
        let configuration: LoadedConfiguration
        do {
            configuration = try ConfigLoader.load(explicitPath: configPath, environment: environment)
        } catch {
            throw DaemonError.configuration("\(error)")
        }
        for problem in configuration.errors {
            logger.error("config: \(problem)")
        }

        let paths = RuntimePaths(environment: environment)
        try paths.prepare()
        let token = ContainerToken.generate()
        do {
            try ContainerToken.write(token, to: paths.tokenFile)
        } catch {
            throw DaemonError.runtimeDirectory(paths.tokenFile, "\(error)")
        }

        let directory = ProfileDirectory(configuration)
        let transport = HTTPClientSTSTransport()
        let output = CredentialsOutput(profiles: directory, wallClock: wallClock, logger: logger)
        let engine = RefreshEngine(
            profiles: ProfileSpecs.make(configuration.profiles),
            renewer: STSRenewer(profiles: directory, transport: transport, wallClock: wallClock, logger: logger),
            sink: output,
            wallClock: wallClock,
            clock: ContinuousClock(),
            logger: logger
        )
        let settings = configuration.settings
        let endpoint = CredentialEndpoint(
            configuration: EndpointConfiguration(
                host: settings.listenHost, port: settings.listenPort, imdsProfile: settings.imdsProfile,
                containerToken: token),
            source: EngineCredentialSource(engine: engine, profiles: directory, wallClock: wallClock),
            wallClock: wallClock,
            logger: logger
        )
        let port: Int
        do {
            port = try await endpoint.bind()
        } catch {
            try? await transport.shutdown()
            throw DaemonError.configuration("cannot listen on \(settings.listenHost):\(settings.listenPort): \(error)")
        }
        let control: ControlServer
        do {
            control = try await ControlServer.bind(path: paths.controlSocket, logger: logger)
        } catch {
            try? await transport.shutdown()
            throw error
        }

        let runtime = DaemonRuntime(
            configPath: configPath, environment: environment, engine: engine, output: output, profiles: directory,
            endpointHost: settings.listenHost, endpointPort: port, paths: paths,
            startedAt: wallClock.now(), logger: logger)
        await output.removeOrphanedSections(keeping: Set(configuration.errors.compactMap(\.profile)))
        logger.info("credd \(version) started", metadata: [
            "credd.endpoint": "\(settings.listenHost):\(port)", "credd.profiles": "\(configuration.profiles.count)",
        ])

        let reloadRequests = ReloadTriggers(watching: configuration.watchedFiles, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: ClosureService { await cancelWhenGracefulShutdownQuietly { await engine.run() } }),
                .init(service: ClosureService { await cancelWhenGracefulShutdownQuietly { try? await endpoint.run() } }),
                .init(service: ClosureService { await cancelWhenGracefulShutdownQuietly { await control.run(handler: runtime.handle) } }),
                .init(service: ClosureService {
                    await cancelWhenGracefulShutdownQuietly {
                        for await _ in reloadRequests.events { await runtime.reload() }
                    }
                }),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // An idle client connection must not hold a shutdown open (systemd would SIGKILL).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            logger.error("shutdown: \(error)")
        }
        reloadRequests.stop()
        try? await transport.shutdown()
        unlink(paths.controlSocket)
        logger.info("credd stopped")
    }

    static func makeLogger(environment: [String: String]) -> Logger {
        var logger = Logger(label: "credd") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = environment["CREDD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }
}

/// Runs `body` until it returns or a graceful shutdown begins, whichever is first.
private func cancelWhenGracefulShutdownQuietly(_ body: @escaping @Sendable () async -> Void) async {
    _ = try? await cancelWhenGracefulShutdown { await body() }
}
