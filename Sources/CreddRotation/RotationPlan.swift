import CreddConfig
import CreddCore
import CreddRefresh

/// One source's long-term keys (a credentials-file section or a keyring item) that the daemon
/// rotates on a schedule.
public struct RotationJob: Sendable, Hashable {
    let location: KeyLocation
    /// The shortest `rotate_after` of the profiles that ask for it.
    let interval: RotationInterval
    /// The profiles whose `rotate_after` covers these keys, for `credd status`.
    let profiles: [String]
    /// MFA sessions made from these keys: a current one signs the IAM calls.
    let mfaSessionProfiles: [String]
    /// Where GetCallerIdentity goes (the first covering profile's STS endpoint).
    let stsEndpoint: STSEndpoint
    /// The key id loaded from the file: when it changes (a rotation, an edit, `credd rotate`),
    /// the key's age is checked again. `nil` for keys in the keyring, which the config does not
    /// read: their age is checked again right before each rotation instead.
    let accessKeyId: String?

    /// The `~/.aws/credentials` section holding the keys, or the source profile whose keys the
    /// keyring holds: what schedules and the daemon know the job by.
    var section: String { location.name }
}

/// What `rotate_after` in the config asks of the daemon: a job per source of keys, and for
/// profiles whose keys cannot be rotated, why. Pure: built from the loaded config alone.
public struct RotationPlan: Sendable, Hashable {
    /// In config order of their first profile.
    let jobs: [RotationJob]
    /// Profile → why its `rotate_after` cannot be honoured.
    let unavailable: [String: String]

    public init(_ configuration: LoadedConfiguration) {
        var jobs: [RotationJob] = []
        var unavailable: [String: String] = [:]
        for profile in configuration.profiles {
            guard let interval = profile.rotateAfter else { continue }
            let target: RotationTarget
            switch RotationTarget.resolve(profile.name, in: configuration) {
            case let .success(resolved): target = resolved
            case let .failure(reason):
                unavailable[profile.name] = reason.reason
                continue
            }
            if let index = jobs.firstIndex(where: { $0.section == target.section }) {
                let job = jobs[index]
                jobs[index] = RotationJob(
                    location: job.location, interval: min(job.interval, interval),
                    profiles: job.profiles + [profile.name], mfaSessionProfiles: job.mfaSessionProfiles,
                    stsEndpoint: job.stsEndpoint, accessKeyId: job.accessKeyId)
            } else {
                jobs.append(
                    RotationJob(
                        location: target.location, interval: interval, profiles: [profile.name],
                        mfaSessionProfiles: target.mfaSessionProfiles, stsEndpoint: profile.stsEndpoint, accessKeyId: target.accessKeyId))
            }
        }
        self.jobs = jobs
        self.unavailable = unavailable
    }

    /// The job covering `profile`, if its `rotate_after` is in force.
    func job(covering profile: String) -> RotationJob? {
        jobs.first { $0.profiles.contains(profile) }
    }
}

extension RotationPlan {
    /// Profiles made from the keys in `section` that wait for a change after a failure. A
    /// renewal that signed with the old key just before it was deleted fails with
    /// InvalidClientTokenId and then waits for a change; the rotated key is that change.
    public static func profilesToRetry(afterRotating section: String, statuses: [ProfileStatus], in configuration: LoadedConfiguration) -> [String] {
        statuses.filter { $0.state == .error }.map(\.name).filter { name in
            guard case let .success(target) = RotationTarget.resolve(name, in: configuration) else { return false }
            return target.section == section
        }
    }
}
