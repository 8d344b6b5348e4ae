import CreddConfig
import CreddCore
import CreddCredentialsFile
import CreddRefresh
import Dispatch
import Logging

/// Writes renewed credentials into the managed sections of the credentials file, one rewrite
/// per batch, and records per-profile problems for `credd status`. The endpoint reads the
/// engine directly, so a file problem never stops it serving.
final class CredentialsOutput: CredentialSink {
    private let profiles: ProfileDirectory
    private let wallClock: any WallClock
    private let logger: Logger
    /// Serialises rewrites and keeps blocking file I/O (flock, fsync) off the cooperative pool.
    private let queue = DispatchQueue(label: "credd.credentials-file")

    init(profiles: ProfileDirectory, wallClock: any WallClock, logger: Logger) {
        self.profiles = profiles
        self.wallClock = wallClock
        self.logger = logger
    }

    func apply(_ batch: [CredentialUpdate]) async {
        var updates: [(profile: String, update: SectionUpdate)] = []
        for update in batch {
            guard case let .published(name, credentials) = update,
                let profile = profiles.profile(named: name), profile.writeCredentials
            else { continue }
            updates.append((name, .write(section: profile.credentialsSection, credentials: credentials)))
        }
        await write(updates)
    }

    /// Removes managed sections that no current profile writes any more (deleted profiles,
    /// renamed `credentials_section`, `write_credentials = false`). Sections of profiles whose
    /// config is broken right now are kept: a typo must not delete anything.
    func removeOrphanedSections(keeping protectedProfiles: Set<String>) async {
        let configuration = profiles.configuration
        let writer = CredentialsFileWriter(path: configuration.settings.credentialsFile, clock: wallClock)
        let owned: [String]
        do {
            owned = try await onQueue { () throws(CredentialsFileError) in try writer.ownedSections() }
        } catch {
            logger.warning("cannot read the credentials file: \(error)")
            return
        }
        let wanted = Set(configuration.profiles.filter(\.writeCredentials).map(\.credentialsSection)).union(protectedProfiles)
        let orphans = owned.filter { !wanted.contains($0) }
        guard !orphans.isEmpty else { return }
        await write(orphans.map { ($0, .remove(section: $0)) })
    }

    private func write(_ updates: [(profile: String, update: SectionUpdate)]) async {
        guard !updates.isEmpty else { return }
        let writer = CredentialsFileWriter(path: profiles.configuration.settings.credentialsFile, clock: wallClock)
        let sections = updates.map(\.update)
        do {
            let outcomes = try await onQueue { () throws(CredentialsFileError) in try writer.apply(sections) }
            var failed: [String: String] = [:]
            var succeeded: [String] = []
            for (entry, outcome) in zip(updates, outcomes) {
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
                logger.info("credentials file updated", metadata: ["credd.sections": "\(sections.map(\.section).joined(separator: ","))"])
            }
        } catch {
            logger.error("credentials file not written", metadata: ["error": "\(error)"])
            profiles.recordWrite(errors: Dictionary(updates.map { ($0.profile, error.description) }) { $1 }, succeeded: [])
        }
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws(CredentialsFileError) -> T) async throws(CredentialsFileError) -> T {
        let result: Result<T, CredentialsFileError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(CredentialsFileError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
