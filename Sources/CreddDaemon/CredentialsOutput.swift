import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddPlatform
import CreddRefresh
import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization

/// Writes renewed credentials into the managed sections of the credentials file, one rewrite
/// per batch, and records per-profile problems for `credd status`. The endpoint reads the
/// engine directly, so a file problem never stops it serving.
///
/// A rewrite that fails as a whole (the lock held too long, the disk, another program changing
/// the file throughout) is tried again with backoff, and each later rewrite carries the updates
/// still unwritten: otherwise the file would keep credentials that expire before the next renewal.
/// Those retries run in `run()`.
final class CredentialsOutput: CredentialSink, Service {
    /// The first wait before a failed rewrite is tried again; it doubles up to the maximum.
    static let firstRetryDelay: TimeInterval = 1
    static let maximumRetryDelay: TimeInterval = 30

    private struct PendingUpdate: Sendable {
        let profile: String
        let update: SectionUpdate
    }

    private struct RetryState {
        /// Updates of failed rewrites, at most one per section (the latest).
        var unwritten: [PendingUpdate] = []
        var consecutiveFailures = 0
        var retryScheduled = false
    }

    private let profiles: ProfileDirectory
    private let wallClock: any WallClock
    private let logger: Logger
    private let writerConfiguration: CredentialsFileWriter.Configuration
    /// Serialises rewrites and keeps blocking file I/O (flock, fsync) off the executor's threads.
    private let fileThread = SerialBlockingWork()
    /// `unwritten` is read and changed only on `fileThread`, so a retry and a new batch never
    /// reorder a section's updates.
    private let retry = Mutex(RetryState())
    /// When the one scheduled retry is due, for `run()`.
    private let retries: AsyncStream<Date>
    private let retryDue: AsyncStream<Date>.Continuation

    init(profiles: ProfileDirectory, wallClock: any WallClock, logger: Logger, writerConfiguration: CredentialsFileWriter.Configuration = .init()) {
        self.profiles = profiles
        self.wallClock = wallClock
        self.logger = logger
        self.writerConfiguration = writerConfiguration
        (retries, retryDue) = AsyncStream.makeStream(of: Date.self)
    }

    /// Runs the scheduled retries until cancelled or a graceful shutdown begins.
    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            for await deadline in retries {
                do {
                    try await wallClock.sleep(until: deadline)
                } catch {
                    return
                }
                retry.withLock { $0.retryScheduled = false }
                await write([])
            }
        }
    }

    func apply(_ batch: [CredentialUpdate]) async {
        var updates: [PendingUpdate] = []
        let configuration = profiles.configuration
        // The keys as loaded, not as scheduled rotation counts them: a later start compares
        // with what it loads.
        let identities = ProfileIdentity.digests(of: configuration.profiles)
        for update in batch {
            guard case let .published(name, credentials) = update,
                let profile = configuration.profile(named: name), profile.writeCredentials
            else { continue }
            updates.append(
                PendingUpdate(
                    profile: name,
                    update: .write(
                        section: profile.credentialsSection, credentials: credentials, identity: identities[name])))
        }
        guard !updates.isEmpty else { return }
        await write(updates)
    }

    /// Removes managed sections that no current profile writes any more (deleted profiles,
    /// renamed `credentials_section`, `write_credentials = false`). Sections of profiles whose
    /// config is broken right now are kept: a typo must not delete anything.
    func removeOrphanedSections(keeping protectedProfiles: Set<String>) async {
        let configuration = profiles.configuration
        let writer = CredentialsFileWriter(path: configuration.settings.credentialsFile, clock: wallClock, configuration: writerConfiguration)
        let owned: [String]
        do {
            owned = try await fileThread.run { Result { () throws(CredentialsFileError) in try writer.ownedSections() } }.get()
        } catch {
            logger.warning("cannot read the credentials file: \(error)")
            return
        }
        let wanted = Set(configuration.profiles.filter(\.writeCredentials).map(\.credentialsSection)).union(protectedProfiles)
        let orphans = owned.filter { !wanted.contains($0) }
        guard !orphans.isEmpty else { return }
        await write(orphans.map { PendingUpdate(profile: $0, update: .remove(section: $0)) })
    }

    /// One rewrite of `updates` plus whatever earlier failed rewrites left unwritten.
    private func write(_ updates: [PendingUpdate]) async {
        let writer = CredentialsFileWriter(
            path: profiles.configuration.settings.credentialsFile, clock: wallClock, configuration: writerConfiguration)
        let (attempted, result) = await fileThread.run { [self] in
            let attempted = retry.withLock { state in
                let newer = Set(updates.map(\.update.section))
                let carried = state.unwritten.filter { !newer.contains($0.update.section) }
                state.unwritten = []
                return carried + updates
            }
            guard !attempted.isEmpty else { return (attempted, Result<[SectionOutcome], CredentialsFileError>.success([])) }
            let result = Result { () throws(CredentialsFileError) in try writer.apply(attempted.map(\.update)) }
            if case .failure = result { retry.withLock { $0.unwritten = attempted } }
            return (attempted, result)
        }
        guard !attempted.isEmpty else { return }
        switch result {
        case let .success(outcomes):
            retry.withLock { $0.consecutiveFailures = 0 }
            var failed: [String: String] = [:]
            var succeeded: [String] = []
            for (entry, outcome) in zip(attempted, outcomes) {
                switch outcome.result {
                case .success:
                    succeeded.append(entry.profile)
                case let .failure(error):
                    failed[entry.profile] = error.description
                    logger.error("credentials file not updated", metadata: ["credd.profile": "\(entry.profile)", "error": "\(error)"])
                }
            }
            profiles.recordWrite(errors: failed, succeeded: succeeded)
            if !succeeded.isEmpty {
                logger.info("credentials file updated", metadata: ["credd.sections": "\(attempted.map(\.update.section).joined(separator: ","))"])
            }
        case let .failure(error):
            profiles.recordWrite(errors: Dictionary(attempted.map { ($0.profile, error.description) }) { $1 }, succeeded: [])
            let delay = scheduleRetry()
            logger.error("credentials file not written", metadata: ["error": "\(error)", "credd.retry-in": "\(Int(delay)) s"])
        }
    }

    /// Schedules the one retry unless it is already waiting; returns the wait.
    private func scheduleRetry() -> TimeInterval {
        let (delay, start) = retry.withLock { state in
            state.consecutiveFailures += 1
            let delay = exponentialBackoff(afterFailures: state.consecutiveFailures, first: Self.firstRetryDelay, maximum: Self.maximumRetryDelay)
            defer { state.retryScheduled = true }
            return (delay, !state.retryScheduled)
        }
        if start { retryDue.yield(wallClock.now().addingTimeInterval(delay)) }
        return delay
    }
}
