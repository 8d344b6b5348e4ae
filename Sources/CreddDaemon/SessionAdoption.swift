import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddRefresh
import FoundationEssentials
import Logging

/// At start, and for profiles a reload adds, puts back in service the sessions an earlier run
/// obtained and that are still valid: from credd's sections of the credentials file, or from the
/// user keyring for profiles that write no file. A session is adopted only under the identity it
/// was issued for, so an edit of the profile's source, `mfa_serial`, role or external id
/// meanwhile renews instead.
enum SessionAdoption {
    /// STS's default lifetimes, for estimating when a session from the file was obtained (the
    /// file records only its expiry); IAM Identity Center role credentials count as a role's.
    static let defaultSessionTokenLifetime: TimeInterval = 12 * 3600
    static let defaultRoleLifetime: TimeInterval = 3600

    /// Offers every profile its kept session; returns the names of the profiles that took one.
    @discardableResult
    static func adopt(
        into engine: RefreshEngine, specs: [ProfileSpec], configuration: LoadedConfiguration, keyring: SessionKeyring,
        wallClock: any WallClock, logger: Logger
    ) async -> [String] {
        let sessions = keptSessions(for: specs, configuration: configuration, keyring: keyring, wallClock: wallClock, logger: logger)
        var adopted: [String] = []
        for spec in specs {
            guard let kept = sessions[spec.name] else { continue }
            if await engine.adopt(profile: spec.name, credentials: kept.credentials, obtainedAt: kept.obtainedAt) {
                adopted.append(spec.name)
                logger.info(
                    "session kept from the previous run adopted",
                    metadata: ["credd.profile": "\(spec.name)", "credd.expiration": "\(kept.credentials.expiration.map(AWSTimestamp.format) ?? "-")"])
            }
        }
        return adopted
    }

    /// The still-valid sessions kept for `specs` (in the file, or the keyring), by profile
    /// name: only those issued for the profile's current identity.
    static func keptSessions(
        for specs: [ProfileSpec], configuration: LoadedConfiguration, keyring: SessionKeyring, wallClock: any WallClock, logger: Logger
    ) -> [String: RefreshEngine.KeptSession] {
        guard !specs.isEmpty else { return [:] }
        let fileSessions = storedFileSessions(configuration, wallClock: wallClock, logger: logger)
        let now = wallClock.now()
        var sessions: [String: RefreshEngine.KeptSession] = [:]
        for spec in specs {
            guard let profile = configuration.profile(named: spec.name) else { continue }
            let kept: (identity: String?, credentials: AWSCredentials, obtainedAt: Date)?
            if profile.writeCredentials {
                kept = fileSessions[profile.credentialsSection].map {
                    ($0.identity, $0.credentials, estimatedStart(of: $0.credentials, for: profile, now: now))
                }
            } else {
                kept = keyring.entry(for: profile.name).map { ($0.identity, $0.credentials, $0.obtainedAt) }
            }
            guard let kept, kept.credentials.isValid(at: now), let expiration = kept.credentials.expiration else { continue }
            guard kept.identity == spec.identity else {
                logger.info(
                    "the session kept from the previous run was issued for another definition of the profile; renewing",
                    metadata: ["credd.profile": "\(spec.name)", "credd.expiration": "\(AWSTimestamp.format(expiration))"])
                continue
            }
            sessions[spec.name] = RefreshEngine.KeptSession(credentials: kept.credentials, obtainedAt: kept.obtainedAt)
        }
        return sessions
    }

    private static func storedFileSessions(_ configuration: LoadedConfiguration, wallClock: any WallClock, logger: Logger) -> [String: StoredSession]
    {
        guard configuration.profiles.contains(where: \.writeCredentials) else { return [:] }
        do {
            return try CredentialsFileWriter(path: configuration.settings.credentialsFile, clock: wallClock).storedSessions()
        } catch {
            logger.warning("cannot read the sessions kept in the credentials file; renewing every profile: \(error)")
            return [:]
        }
    }

    /// The file records when a session expires, not when it began: its start is estimated from
    /// the configured (or STS's default) duration, never later than now.
    static func estimatedStart(of credentials: AWSCredentials, for profile: ManagedProfile, now: Date) -> Date {
        guard let expiration = credentials.expiration else { return now }
        let lifetime =
            profile.durationSeconds.map(TimeInterval.init)
            ?? (profile.kind == .sessionToken ? defaultSessionTokenLifetime : defaultRoleLifetime)
        return min(expiration.addingTimeInterval(-lifetime), now)
    }
}
