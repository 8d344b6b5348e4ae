import CreddCore
import FoundationEssentials
import Logging

/// Keeps one Identity Center session's access token fresh: drives an `SSOTokenRefreshMachine`
/// with real I/O (the shared cache file, CreateToken) and sleeps on the wall clock until its next
/// deadline. The composition root runs one per session and hands `onChange` to whatever renews
/// role credentials with the token.
public actor SSOTokenKeeper {
    public let session: SSOSession
    /// What `credd login` takes for this session: its name, or (legacy) a profile's name.
    public let loginName: String
    private let cache: SSOTokenCache
    private let oidc: SSOOIDCClient
    private let wallClock: any WallClock
    private let logger: Logger
    private let onChange: @Sendable (SSOToken?) async -> Void
    private var machine: SSOTokenRefreshMachine
    private var random = SystemRandomNumberGenerator()
    private var sleep: (task: Task<Void, any Error>, until: Date)?

    /// - Parameters:
    ///   - loginName: what the journal tells the user to pass to `credd login`; the session's
    ///     name (the start URL for a legacy session) when `nil`.
    ///   - onChange: called with each new token in service, and with `nil` when the token in
    ///     service expired.
    public init(
        session: SSOSession, loginName: String? = nil, cache: SSOTokenCache, oidc: SSOOIDCClient, wallClock: any WallClock, logger: Logger,
        schedule: SSOTokenRefreshMachine.Schedule = .init(), onChange: @escaping @Sendable (SSOToken?) async -> Void
    ) {
        self.session = session
        self.loginName = loginName ?? session.name ?? session.startURL
        self.cache = cache
        self.oidc = oidc
        self.wallClock = wallClock
        self.logger = logger
        self.onChange = onChange
        self.machine = SSOTokenRefreshMachine(schedule: schedule)
    }

    /// The token to call the portal with now, if any.
    public var token: SSOToken? { machine.servedToken(at: wallClock.now()) }

    /// The machine as it stands, for `credd status`.
    public var status: SSOTokenRefreshMachine { machine }

    /// Ticks at every deadline until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await send(.tick)
            // With no deadline only an event can change anything; an hourly look costs nothing.
            let until = machine.nextDeadline ?? wallClock.now().addingTimeInterval(3600)
            let clock = wallClock
            let task = Task { try await clock.sleep(until: until) }
            sleep = (task, until)
            // Cancelled early when an event brings the deadline forward: tick again.
            _ = await withTaskCancellationHandler {
                await task.result
            } onCancel: {
                task.cancel()
            }
            sleep = nil
        }
    }

    /// Applies `event` (`cacheChanged` after `credd login` or a file change, `manualRefresh`)
    /// and performs what it asks for.
    public func send(_ event: SSOTokenRefreshMachine.Event) async {
        var pending = handle(event)
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .readCache:
                do {
                    pending += handle(.cacheLoaded(try cache.load(sessionName: session.name, startURL: session.startURL)))
                } catch {
                    pending += handle(.cacheUnreadable(error))
                }
            case .refresh(let token):
                pending += handle(await refresh(token))
            case .writeCache(let token):
                do {
                    try cache.store(token, sessionName: session.name)
                } catch {
                    // The token stays in service from memory; the next refresh writes again.
                    logger.warning("cannot write the token cache", metadata: metadata(["error": "\(error)"]))
                }
            case .publish(let token):
                await onChange(token)
            case .withdraw:
                await onChange(nil)
            }
        }
        if let sleep, let deadline = machine.nextDeadline, deadline < sleep.until { sleep.task.cancel() }
    }

    private func refresh(_ token: SSOToken) async -> SSOTokenRefreshMachine.Event {
        guard let registration = SSOClientRegistration(token: token, at: wallClock.now()), let refreshToken = token.refreshToken else {
            return .refreshFailed(
                SSOError(
                    kind: .service, code: "InvalidClientException", operation: "CreateToken", message: "the cache holds no valid client registration")
            )
        }
        do {
            return .refreshSucceeded(try await oidc.createToken(registration, grant: .refreshToken(refreshToken)))
        } catch {
            return .refreshFailed(error)
        }
    }

    /// Runs the machine and logs one line per change of state.
    private func handle(_ event: SSOTokenRefreshMachine.Event) -> [SSOTokenRefreshMachine.Action] {
        let before = machine.state
        let actions = machine.handle(event, now: wallClock.now(), using: &random)
        if Self.name(of: machine.state) != Self.name(of: before) {
            var fields: Logger.Metadata = ["sso.state": "\(Self.name(of: machine.state))"]
            if let expiry = machine.token?.expiresAt { fields["sso.token_expires"] = "\(AWSTimestamp.format(expiry))" }
            if let error = machine.lastError { fields["error"] = "\(error)" }
            if case .needsLogin(let reason) = machine.state {
                fields["sso.reason"] = "\(reason.explanation)"
                logger.warning("sign-in needed: run credd login \(loginName)", metadata: metadata(fields))
            } else {
                logger.info("sso token", metadata: metadata(fields))
            }
        }
        return actions
    }

    private func metadata(_ fields: Logger.Metadata) -> Logger.Metadata {
        fields.merging(["credd.sso_session": "\(session.name ?? session.startURL)"]) { $1 }
    }

    /// The state's name for status and logs: `needs_login`, `fresh`, …
    public static func name(of state: SSOTokenRefreshMachine.State) -> String {
        switch state {
        case .pending: "pending"
        case .readingCache: "reading_cache"
        case .fresh: "fresh"
        case .refreshing: "refreshing"
        case .retrying: "retrying"
        case .needsLogin: "needs_login"
        }
    }
}
