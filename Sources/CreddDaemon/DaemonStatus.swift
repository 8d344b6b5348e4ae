import CreddCore
import CreddPlatform
import CreddRefresh
import CreddSystemd
import Logging
import ServiceLifecycle

/// Hands the engine's status changes to the endpoint (its reason for a profile with nothing to
/// serve) and keeps systemd informed: `READY=1` once the first refresh pass has been written,
/// a one-line `STATUS=` of every profile and the config's errors, and `STOPPING=1` as soon as a
/// shutdown begins.
struct DaemonStatus: Service {
    private let engine: RefreshEngine
    private let profiles: ProfileDirectory
    private let served: EngineCredentialSource
    private let ssoSessions: SSOSessions
    private let desktop: DesktopNotifier
    private let notifier: any SystemdNotifier
    private let wallClock: any WallClock
    private let logger: Logger
    /// STATUS= summarises every profile, so changes that queue up while it is being built
    /// coalesce into one rebuild (a pass of 1,000 renewals would otherwise rebuild it per change).
    private let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    init(
        engine: RefreshEngine, profiles: ProfileDirectory, served: EngineCredentialSource, ssoSessions: SSOSessions, desktop: DesktopNotifier,
        notifier: any SystemdNotifier,
        wallClock: any WallClock, logger: Logger
    ) {
        self.engine = engine
        self.profiles = profiles
        self.served = served
        self.ssoSessions = ssoSessions
        self.desktop = desktop
        self.notifier = notifier
        self.wallClock = wallClock
        self.logger = logger
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The config was reloaded or an Identity Center session's sign-in changed: STATUS= names
    /// both, and the desktop's notifications follow.
    func update() {
        changed.yield()
        desktop.statusChanged()
    }

    func run() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { [self] in
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        for await status in engine.statusChanges {
                            served.record(status)
                            changed.yield()
                            desktop.statusChanged()
                        }
                        changed.finish()
                    }
                    group.addTask {
                        await engine.waitForFirstPass()
                        // Stopped before the first pass was over: never READY.
                        guard !Task.isCancelled else { return }
                        notifier.send(.ready, loggingFailureTo: logger)
                        await keepStatusCurrent()
                    }
                }
            }
        } onCancelOrGracefulShutdown: { [notifier, logger] in
            notifier.send(.stopping, loggingFailureTo: logger)
        }
    }

    /// Keeps systemd's one-line `STATUS=` in step with the profiles' states and the config's errors.
    private func keepStatusCurrent() async {
        var last = ""
        func publish() async {
            var line = ProfileStatus.summary(
                of: await engine.statuses(), configErrors: profiles.configErrors, now: wallClock.now(), secondsFromGMT: LocalTime.secondsFromGMT)
            let logins = await ssoSessions.sessionsNeedingLogin().compactMap(\.loginCommand)
            if !logins.isEmpty { line += "; IAM Identity Center sign-in needed: \(logins.joined(separator: ", "))" }
            guard line != last else { return }
            last = line
            notifier.send(.status(line), loggingFailureTo: logger)
        }
        await publish()
        for await _ in changes { await publish() }
    }
}

/// Hands each Identity Center token change (a sign-in, a refresh, a session that ended) to the
/// daemon, which renews the session's profiles, and to STATUS=.
struct SSOSignIns: Service {
    let sessions: SSOSessions
    let runtime: DaemonRuntime
    let status: DaemonStatus

    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            for await session in sessions.tokenChanges {
                await runtime.ssoTokenChanged(session)
                status.update()
            }
        }
    }
}
