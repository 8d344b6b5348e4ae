import CreddConfig
import CreddCore
import CreddSigV4

/// Whose session a profile's credentials are, as a short digest: a session is adopted at start,
/// and kept across a config edit, only under the identity it was issued for.
///
/// The identity covers the profile's name, how it renews (GetSessionToken, or AssumeRole of
/// `role_arn` with `external_id` and the AssumeRole options), `mfa_serial`, and its source: a managed source's own
/// identity, a `credential_process` command, or static keys' section and access key id. The
/// duration, region, endpoint, `mfa_process` and comments are left out: they change how the
/// next session is obtained, not whose the current one is. Never a secret.
///
/// An MFA profile's static keys count by their section only: the MFA device already names the
/// IAM user, and a key rotation (a new key of that same user) must not cost the user a code.
enum ProfileIdentity {
    /// Hex characters kept of the SHA-256: plenty to tell definitions apart, short in the file.
    static let length = 32

    /// The identity of each of `profiles` (in config order: a managed source before its
    /// dependents). `keys` gives the static source keys to count for a profile (scheduled
    /// rotation counts a rotated key as the key it replaced while the daemon runs).
    static func digests(
        of profiles: [ManagedProfile],
        keys: (ManagedProfile, AWSCredentials) -> AWSCredentials = { $1 }
    ) -> [String: String] {
        var digests: [String: String] = [:]
        for profile in profiles {
            digests[profile.name] = digest(of: profile, sourceIdentity: digests, keys: keys)
        }
        return digests
    }

    private static func digest(
        of profile: ManagedProfile,
        sourceIdentity: [String: String],
        keys: (ManagedProfile, AWSCredentials) -> AWSCredentials
    ) -> String {
        var parts = ["credd-identity-1", profile.name, profile.mfaSerial ?? ""]
        switch profile.kind {
        case .sessionToken:
            parts.append("session")
        case let .assumeRole(roleArn, externalId, _):
            parts += ["role", roleArn, externalId ?? ""]
        case let .sso(accountId, roleName):
            parts += ["sso", accountId, roleName]
        }
        // The session's tags, source identity and policies are what it may do and who it says
        // it is: a change is another session. Left out when unset, so identities written before
        // these settings existed still match.
        let options = profile.roleOptions
        if !options.isEmpty {
            parts += [
                "options", options.sourceIdentity ?? "", options.tags.map(\.description).joined(separator: ","),
                options.transitiveTagKeys.joined(separator: ","), options.policyArns.joined(separator: ","), options.policy?.document ?? "",
            ]
        }
        switch profile.source {
        case let .managed(name):
            // A source missing from `profiles` makes the identity its own: nothing adopts it.
            parts += ["managed", name, sourceIdentity[name] ?? "unresolved"]
        case let .staticKeys(credentials, _):
            parts += ["keys", profile.sourceChain.last ?? ""]
            if profile.mfaSerial == nil { parts.append(keys(profile, credentials).accessKeyId) }
        case let .secretService(name):
            parts += ["keyring", name]
        case let .credentialProcess(commandLine, _):
            parts += ["process", commandLine]
        case let .ssoSession(session):
            parts += ["sso-session", session.name ?? "", session.startURL]
        }
        // The unit separator cannot occur in a config value, so no two part lists digest alike.
        return String(SigV4Signer.hexSHA256(Array(parts.joined(separator: "\u{1F}").utf8)).prefix(length))
    }
}
