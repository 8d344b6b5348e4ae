import CreddConfig
import CreddCore
import CreddRefresh
import CreddSSO

/// Renews IAM Identity Center profiles with GetRoleCredentials and the session's access token;
/// every other profile goes to the STS renewer. The engine schedules both alike: ahead of
/// expiry, with jitter and backoff, the last good credentials kept in service.
final class SSORenewer: CredentialRenewer {
    private let profiles: ProfileDirectory
    private let sessions: SSOSessions
    private let sts: any CredentialRenewer

    init(profiles: ProfileDirectory, sessions: SSOSessions, sts: any CredentialRenewer) {
        self.profiles = profiles
        self.sessions = sessions
        self.sts = sts
    }

    func renew(profile spec: ProfileSpec, source: AWSCredentials?, mfaCode: Secret?) async throws(RefreshFailure) -> AWSCredentials {
        guard let profile = profiles.profile(named: spec.name), case let .sso(accountId, roleName) = profile.kind, let session = profile.ssoSession
        else {
            return try await sts.renew(profile: spec, source: source, mfaCode: mfaCode)
        }
        guard let (token, portal) = await sessions.token(for: session) else {
            let missing = await sessions.missingTokenReason(for: session)
            // A sign-in is the user's to do: no quick retries; the token's arrival renews at once.
            throw RefreshFailure(disposition: missing.needsLogin ? .needsLogin : .retryable, message: missing.message)
        }
        do {
            return try await portal.roleCredentials(accountId: accountId, roleName: roleName, accessToken: token.accessToken)
        } catch {
            if error.code == "UnauthorizedException" { await sessions.tokenRefused(for: session) }
            throw RefreshFailure(
                disposition: error.isTransient ? .retryable : .needsChange,
                message: "GetRoleCredentials for \(roleName) in \(accountId) (sso-session \(session.displayName)): \(error)")
        }
    }
}
