import CreddConfig
import CreddCore
import CreddSSO
import FoundationEssentials
import Glibc
import Logging

/// The daemon's IAM Identity Center sessions: one `SSOTokenKeeper` per session the loaded
/// profiles use, each keeping its access token fresh in the cache shared with the AWS CLI, and a
/// watch on that cache so a token from `credd login` or `aws sso login` is picked up at once.
actor SSOSessions {
    private struct Running {
        let config: SSOSessionConfig
        /// What `credd login` takes for it: the session's name, or a legacy profile's name.
        let loginName: String
        let keeper: SSOTokenKeeper
        let portal: SSOPortalClient
        let task: Task<Void, Never>
    }

    private let cache: SSOTokenCache
    private let http: SSOHTTP
    private let environment: [String: String]
    private let wallClock: any WallClock
    private let schedule: SSOTokenRefreshMachine.Schedule
    private let logger: Logger
    /// A session's display name whenever its token in service (or its state) changes.
    nonisolated let tokenChanges: AsyncStream<String>
    private let tokenChange: AsyncStream<String>.Continuation
    private var running: [String: Running] = [:]
    private var watcher: FileWatcher?
    private var watching: Set<String> = []

    init(
        cache: SSOTokenCache, http: SSOHTTP, environment: [String: String], wallClock: any WallClock, logger: Logger,
        schedule: SSOTokenRefreshMachine.Schedule = .init()
    ) {
        self.cache = cache
        self.http = http
        self.environment = environment
        self.wallClock = wallClock
        self.schedule = schedule
        self.logger = logger
        (tokenChanges, tokenChange) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// Starts a keeper for each session `profiles` use that is not yet kept, and stops those no
    /// longer used.
    func update(_ profiles: [ManagedProfile]) {
        var wanted: [String: (config: SSOSessionConfig, loginName: String)] = [:]
        for profile in profiles {
            guard let config = profile.ssoSession, wanted[config.displayName] == nil else { continue }
            wanted[config.displayName] = (config, config.name ?? profile.name)
        }
        for (name, session) in running where wanted[name]?.config != session.config {
            session.task.cancel()
            running[name] = nil
        }
        for (name, (config, loginName)) in wanted where running[name] == nil {
            let endpoints = SSOEndpoints(region: config.region, environment: environment)
            let notify = tokenChange
            let keeper = SSOTokenKeeper(
                session: SSOSession(name: config.name, startURL: config.startURL, region: config.region, scopes: config.registrationScopes),
                loginName: loginName, cache: cache, oidc: SSOOIDCClient(http: http, endpoint: endpoints.oidc), wallClock: wallClock,
                logger: logger, schedule: schedule
            ) { _ in notify.yield(name) }
            running[name] = Running(
                config: config, loginName: loginName, keeper: keeper, portal: SSOPortalClient(http: http, endpoint: endpoints.portal),
                task: Task { await keeper.run() })
        }
        watchCacheFiles()
    }

    /// Stops every keeper and the watch.
    func stop() {
        for session in running.values { session.task.cancel() }
        running = [:]
        watcher?.stop()
        watcher = nil
        tokenChange.finish()
    }

    /// The access token of `session` to call the portal with now, after reading the cache if the
    /// keeper has not yet (the engine's first pass may come first); `nil` when there is none.
    func token(for session: SSOSessionConfig) async -> (token: SSOToken, portal: SSOPortalClient)? {
        guard let entry = running[session.displayName] else { return nil }
        if case .pending = await entry.keeper.status.state { await entry.keeper.send(.tick) }
        guard let token = await entry.keeper.token else { return nil }
        return (token, entry.portal)
    }

    /// Why `session` has no token, for the profile's error: a sign-in, or a refresh under way.
    func missingTokenReason(for session: SSOSessionConfig) async -> (needsLogin: Bool, message: String) {
        guard let entry = running[session.displayName] else {
            return (false, "the IAM Identity Center session \(session.displayName) is not running yet")
        }
        let login = "run `credd login \(entry.loginName)`"
        let machine = await entry.keeper.status
        switch machine.state {
        case .needsLogin(let reason):
            return (true, "needs an IAM Identity Center sign-in for \(session.displayName) (\(reason.explanation)): \(login)")
        case .fresh(refreshAt: nil):
            return (true, "the IAM Identity Center token of \(session.displayName) expired and cannot be refreshed: \(login)")
        case .pending, .readingCache, .refreshing, .retrying, .fresh:
            let cause = machine.lastError.map { ": \($0)" } ?? ""
            return (false, "waiting for the IAM Identity Center token of \(session.displayName) to be refreshed\(cause)")
        }
    }

    /// The portal refused the token (UnauthorizedException): read the cache again, in case
    /// another program signed in, and let the keeper re-plan.
    func tokenRefused(for session: SSOSessionConfig) async {
        await running[session.displayName]?.keeper.send(.cacheChanged)
    }

    /// `credd refresh` of an SSO profile also refreshes its session's token.
    func refreshToken(for session: SSOSessionConfig) async {
        await running[session.displayName]?.keeper.send(.manualRefresh)
    }

    /// Each session's token as `credd status` shows it, by name.
    func statuses() async -> [SSOSessionStatus] {
        var rows: [SSOSessionStatus] = []
        let now = wallClock.now()
        for (name, session) in running.sorted(by: { $0.key < $1.key }) {
            let machine = await session.keeper.status
            rows.append(SSOSessionStatus(name: name, loginName: session.loginName, config: session.config, machine: machine, now: now))
        }
        return rows
    }

    /// Sessions waiting for a sign-in, for systemd's `STATUS=` line.
    func sessionsNeedingLogin() async -> [SSOSessionStatus] {
        await statuses().filter(\.needsLogin)
    }

    /// Watches the cache files of the running sessions: a login by any program is read at once.
    private func watchCacheFiles() {
        let paths = Set(running.values.map { cache.path(sessionName: $0.config.name, startURL: $0.config.startURL) })
        guard paths != watching else { return }
        watcher?.stop()
        watcher = nil
        watching = paths
        guard !paths.isEmpty else { return }
        // The directory must exist to be watched; `aws sso login` creates it the same way.
        var prefix = ""
        for component in cache.directory.split(separator: "/") {
            prefix += "/" + component
            _ = mkdir(prefix, 0o700)
        }
        do {
            let watcher = try FileWatcher(paths: paths.sorted(), logger: logger)
            self.watcher = watcher
            Task { [weak self] in
                for await _ in watcher.changes { await self?.cacheChanged() }
            }
        } catch {
            logger.warning("the IAM Identity Center token cache is not watched (\(error)); a new sign-in is read at the next refresh")
        }
    }

    private func cacheChanged() async {
        for session in running.values { await session.keeper.send(.cacheChanged) }
    }
}

/// One Identity Center session in `credd status`. Holds no secrets.
struct SSOSessionStatus: Sendable {
    let name: String
    let loginName: String
    let config: SSOSessionConfig
    /// `fresh`, `refreshing`, `retrying`, `needs_login`, … (``SSOTokenKeeper/name(of:)``).
    let state: String
    let needsLogin: Bool
    let tokenExpiration: Date?
    /// Whether the token can be refreshed without a sign-in.
    let canRefresh: Bool
    let registrationExpiration: Date?
    /// When a sign-in will be needed, if known (a token that cannot refresh, or the registration's end).
    let loginNeededAt: Date?
    let lastRefresh: Date?
    let error: String?

    init(name: String, loginName: String, config: SSOSessionConfig, machine: SSOTokenRefreshMachine, now: Date) {
        self.name = name
        self.loginName = loginName
        self.config = config
        let token = machine.token
        var error = machine.lastError.map { "\($0)" }
        switch machine.state {
        case .needsLogin(let reason):
            self.needsLogin = true
            error = "\(reason.explanation): run `credd login \(loginName)`"
        case .fresh(refreshAt: nil) where !(token?.isValid(at: now) ?? false):
            self.needsLogin = true
        default:
            self.needsLogin = false
        }
        self.state = needsLogin ? "needs_login" : SSOTokenKeeper.name(of: machine.state)
        self.tokenExpiration = token?.expiresAt
        self.canRefresh = token.map { $0.refreshBlocker(at: now) == nil } ?? false
        self.registrationExpiration = token?.registrationExpiresAt
        self.loginNeededAt = machine.loginNeededAt
        self.lastRefresh = machine.lastRefresh
        self.error = error
    }

    /// The command that signs in, when one is needed.
    var loginCommand: String? { needsLogin ? "credd login \(loginName)" : nil }
}
