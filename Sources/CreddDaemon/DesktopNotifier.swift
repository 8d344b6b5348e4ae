import CreddBus
import CreddConfig
import CreddCore
import CreddPlatform
import CreddRefresh
import CreddRotation
import CreddSTS
import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// What `credd status` says about the desktop: `starting`, `notifications on`, `notifications off`,
/// `no session bus`, `no notification service` or `notifications failing: …`.
final class DesktopState: Sendable {
    private let summary = Mutex("starting")

    var current: String { summary.withLock { $0 } }

    /// Returns whether this changed it.
    @discardableResult
    func set(_ text: String) -> Bool {
        summary.withLock { summary in
            defer { summary = text }
            return summary != text
        }
    }
}

/// Desktop notifications on the session bus when a profile needs the user (docs/design.md §8):
/// one per profile, replaced in place, withdrawn once resolved, rate-limited. Without a session
/// bus (SSH, servers) it does nothing and `credd status` says so.
struct DesktopNotifier: Service {
    private let environment: [String: String]
    private let engine: RefreshEngine
    private let rotation: RotationScheduler
    private let profiles: ProfileDirectory
    private let state: DesktopState
    private let wallClock: any WallClock
    private let logger: Logger
    private let changes = ChangeFeed()

    init(
        environment: [String: String], engine: RefreshEngine, rotation: RotationScheduler, profiles: ProfileDirectory, state: DesktopState,
        wallClock: any WallClock, logger: Logger
    ) {
        self.environment = environment
        self.engine = engine
        self.rotation = rotation
        self.profiles = profiles
        self.state = state
        self.wallClock = wallClock
        self.logger = logger
    }

    /// A profile's status or the config changed: the notices are looked at again.
    func statusChanged() {
        changes.signal()
    }

    /// How often credd looks again for a session bus it did not find or lost (a desktop
    /// session that starts after the daemon, a logout and a new login).
    static let reconnectInterval: Duration = .seconds(10)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            repeat {
                await serve()
            } while await waitBeforeLookingAgain()
        }
        // Returning early would end the whole ServiceGroup.
        try? await gracefulShutdown()
    }

    /// Waits until the session bus is worth looking for again; false once cancelled. Without a
    /// `DBUS_SESSION_BUS_ADDRESS` and without `$XDG_RUNTIME_DIR/bus`, that is when the socket
    /// is created (inotify): on a server it never is, and an idle daemon should not wake every
    /// 10 seconds to find that out. Otherwise (an address that did not answer, a bus that went
    /// away) it looks again after ``reconnectInterval``.
    private func waitBeforeLookingAgain() async -> Bool {
        if environment["DBUS_SESSION_BUS_ADDRESS", default: ""].isEmpty, let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            let socket = runtime + "/bus"
            if !Self.socketExists(socket), let watcher = try? FileWatcher(paths: [socket], logger: logger) {
                defer { watcher.stop() }
                // Looked at again once the watch is in place, so a socket created in between counts.
                if !Self.socketExists(socket) {
                    for await _ in watcher.changes where Self.socketExists(socket) { break }
                }
                return !Task.isCancelled
            }
        }
        return (try? await EventLoopClock().sleep(for: Self.reconnectInterval)) != nil
    }

    private static func socketExists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK
    }

    private func serve() async {
        guard let address = BusAddress.session(environment: environment, socketExists: Self.socketExists) else {
            if state.set("no session bus") {
                logger.info("desktop: no session bus; no desktop notifications", metadata: ["credd.event": "desktop_unavailable"])
            }
            return
        }
        let connection: BusConnection
        do {
            connection = try await BusConnection.open(address: address, threadName: "credd-session")
        } catch {
            if state.set("no session bus") {
                logger.info("desktop: \(error); no desktop notifications", metadata: ["credd.event": "desktop_unavailable"])
            }
            return
        }
        defer { connection.close() }
        let desk = Desk(
            server: DesktopNotifications(connection: connection), environment: environment, profiles: profiles, state: state,
            logger: logger)
        await desk.checkServer()
        let invocations = try? await desk.server.invocations()
        let connectionChanges = changes.subscribe()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // One reminder at a time: the earliest a held-back notice may go out.
                var reminder: Date?
                for await _ in connectionChanges {
                    let now = wallClock.now()
                    guard let nextDue = await desk.show(wanted: await wanted(), now: now) else { continue }
                    if let reminder, reminder > now, reminder <= nextDue { continue }
                    reminder = nextDue
                    remind(at: nextDue)
                }
            }
            if let invocations {
                group.addTask {
                    for await invocation in invocations { await desk.invoked(invocation) }
                }
            }
            group.addTask {
                await connection.waitUntilClosed()
            }
            statusChanged()
            // The first to end (a shutdown cancels this task, the bus may go away) ends them all;
            // closing the connection ends the wait for it, which cancellation does not.
            await group.next()
            connection.close()
            group.cancelAll()
        }
        // A shutdown ends the connection too, with the bus still there: not worth a log line.
        guard !Task.isCancelled else { return }
        if state.set("no session bus") {
            logger.info("desktop: the session bus went away; no desktop notifications", metadata: ["credd.event": "desktop_unavailable"])
        }
    }

    private func wanted() async -> [String: DesktopNotice] {
        guard profiles.configuration.settings.notifications else { return [:] }
        return DesktopNotice.wanted(
            by: await engine.statuses(), failedRotations: await rotation.failedRotations(), now: wallClock.now(),
            secondsFromGMT: LocalTime.secondsFromGMT)
    }

    /// Looks again at `date`, when a notice held back by the rate limit may go out.
    private func remind(at date: Date) {
        let delay = max(0, date.timeIntervalSince(wallClock.now()))
        Task { [changes] in
            try? await EventLoopClock().sleep(for: .seconds(delay))
            changes.signal()
        }
    }
}

/// Tells the connection to the session bus that a status changed. Each connection takes a
/// stream of its own: ending one (the bus went away) finishes its stream for good.
private final class ChangeFeed: Sendable {
    private let current = Mutex<AsyncStream<Void>.Continuation?>(nil)

    func subscribe() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        current.withLock { current in
            current?.finish()
            current = continuation
        }
        return stream
    }

    func signal() {
        current.withLock { $0 }?.yield()
    }
}

/// The notifications on the desktop and the server that shows them.
private actor Desk {
    let server: DesktopNotifications
    private let environment: [String: String]
    private let profiles: ProfileDirectory
    private let state: DesktopState
    private let logger: Logger
    private var board = DesktopNoticeBoard()
    private var capabilities: Set<String>?
    /// Why the last call to the server failed; `nil` once one succeeds.
    private var failure: String?

    init(server: DesktopNotifications, environment: [String: String], profiles: ProfileDirectory, state: DesktopState, logger: Logger) {
        self.server = server
        self.environment = environment
        self.profiles = profiles
        self.state = state
        self.logger = logger
    }

    /// Asks the server what it can do, so that `credd status` tells a missing server at once.
    func checkServer() async {
        _ = await offersActions()
        publishState()
    }

    private func publishState() {
        state.set(profiles.configuration.settings.notifications ? failure ?? "notifications on" : "notifications off")
    }

    /// Shows and withdraws notifications to match `wanted`; returns when a held-back one is due.
    func show(wanted: [String: DesktopNotice], now: Date) async -> Date? {
        defer { publishState() }
        for effect in board.update(wanted: wanted, now: now) {
            do throws(BusError) {
                switch effect {
                case .show(let notice, let replacing):
                    let buttons =
                        (notice.offersCodeEntry ? [DesktopNotifications.Action(key: "enter-code", label: "Enter code")] : [])
                        + (notice.signInSession != nil ? [DesktopNotifications.Action(key: "sign-in", label: "Sign in")] : [])
                        + (notice.offersUnlock ? [DesktopNotifications.Action(key: "unlock", label: "Unlock")] : [])
                    let actions = await offersActions() ? buttons : []
                    let id = try await server.notify(
                        replacing: replacing, summary: notice.summary, body: notice.body, actions: actions, critical: notice.critical)
                    board.shown(notice, id: id)
                    logger.info(
                        "desktop: notified: \(notice.summary)", metadata: ["credd.event": "desktop_notified", "credd.profile": "\(notice.profile)"])
                case .close(let id):
                    try await server.close(id)
                }
                failure = nil
            } catch {
                failed(error)
                // Shown again at the next change, once the server is back.
                if case .show(let notice, _) = effect { board.forget(notice) }
            }
        }
        return board.nextDue
    }

    /// Whether the server shows buttons; asked once, and again after a failure.
    private func offersActions() async -> Bool {
        if let capabilities { return capabilities.contains("actions") }
        do {
            let asked = try await server.capabilities()
            capabilities = asked
            failure = nil
            return asked.contains("actions")
        } catch {
            failed(error)
            return false
        }
    }

    private func failed(_ error: BusError) {
        failure = error == .serviceMissing(DesktopNotifications.busName) ? "no notification service" : "notifications failing: \(error)"
        logger.warning("desktop: \(error)", metadata: ["credd.event": "desktop_notify_failed"])
    }

    /// A button was pressed: "Enter code" or "Sign in" (or the notification itself, for the
    /// button it offers) runs the prompt for its profile; "Unlock" asks the keyring to unlock.
    func invoked(_ invocation: DesktopNotifications.Invocation) {
        guard let notice = board.notice(shownAs: invocation.id) else { return }
        let profile = notice.profile
        if notice.offersUnlock, invocation.actionKey == "unlock" || invocation.actionKey == "default" {
            return unlockKeyring(for: profile)
        }
        let settings = profiles.configuration.settings
        let credd = ExecutableSearch.runningExecutable() ?? "credd"
        let underSystemd = environment["INVOCATION_ID"] != nil
        let command: [String]
        let button: String
        switch (invocation.actionKey, notice.signInSession) {
        case ("enter-code", _) where notice.offersCodeEntry, ("default", nil) where notice.offersCodeEntry:
            command = DesktopNotice.codeEntryCommand(
                for: profile, configured: settings.notifyActionCommand, hasDialog: CodeDialogProgram.find(environment: environment) != nil,
                credd: credd, underSystemd: underSystemd)
            button = "Enter code"
        case ("sign-in", let session?), ("default", let session?):
            command = DesktopNotice.signInCommand(
                session: session, profile: profile, configured: settings.notifyActionCommand, credd: credd, underSystemd: underSystemd)
            button = "Sign in"
        default:
            return
        }
        var childEnvironment = environment
        childEnvironment["CREDD_PROFILE"] = profile
        logger.info(
            "desktop: \"\(button)\" for \(profile): running \(command[0])",
            metadata: ["credd.event": "desktop_action", "credd.profile": "\(profile)"])
        let logger = logger
        // The prompt waits for the user; ten minutes is plenty, and the terminal is reaped then.
        Task.detached {
            let problem: String
            do throws(ProcessRunner.Failure) {
                let output = try await ProcessRunner.run(command, configuration: .init(timeout: .seconds(600), environment: childEnvironment))
                guard output.exitStatus != 0 else { return }
                problem = "exited with status \(output.exitStatus)"
            } catch .launchFailed(_, let reason) {
                problem = "could not start: \(reason)"
            } catch .timedOut {
                problem = "was stopped after 10 minutes"
            } catch .cancelled {
                problem = "was stopped at shutdown"
            }
            logger.warning("desktop: \(command[0]) for \(profile) \(problem)", metadata: ["credd.event": "desktop_action_failed"])
        }
    }
}

extension Desk {
    /// "Unlock": the Secret Service shows the desktop's own password prompt; once it unlocks,
    /// its signal renews the profiles waiting (`KeyringUnlocks`). A dismissed prompt changes
    /// nothing: the notification stays.
    fileprivate func unlockKeyring(for profile: String) {
        logger.info(
            "desktop: \"Unlock\" for \(profile): asking the keyring to unlock",
            metadata: ["credd.event": "desktop_action", "credd.profile": "\(profile)"])
        let (keyring, logger) = (SecretService(connection: server.connection), logger)
        Task.detached {
            do {
                switch try await keyring.unlockKeys(timeout: SecretService.unlockPromptTimeout) {
                case .unlocked:
                    logger.info("desktop: the keyring is unlocked", metadata: ["credd.event": "desktop_keyring_unlocked"])
                case .dismissed:
                    logger.warning(
                        "desktop: the keyring's unlock prompt was dismissed (or none could be shown); \(profile) still waits for it",
                        metadata: ["credd.event": "desktop_action_failed", "credd.profile": "\(profile)"])
                }
            } catch {
                logger.warning(
                    "desktop: cannot unlock the keyring: \(error)", metadata: ["credd.event": "desktop_action_failed", "credd.profile": "\(profile)"])
            }
        }
    }
}

/// Tells the notifier after every key rotation, so that a failed one is shown (and a later
/// success withdraws it), then passes the news on.
struct DesktopRotationObserver<Inner: RotationObserver>: RotationObserver {
    let inner: Inner
    let desktop: DesktopNotifier

    func willRotate(section: String) async {
        await inner.willRotate(section: section)
    }

    func didRotate(section: String, fileHolds: String?) async {
        await inner.didRotate(section: section, fileHolds: fileHolds)
        desktop.statusChanged()
    }
}
