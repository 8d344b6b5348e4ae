import CreddCore

/// Obtains new credentials for one profile: the STS call (GetSessionToken or AssumeRole) and,
/// when the profile has an `mfa_process` and no code is given, running that process.
public protocol CredentialRenewer: Sendable {
    /// Renews `profile`.
    /// - Parameters:
    ///   - source: the managed source profile's current credentials for chained profiles; `nil`
    ///     when the source is outside credd (static keys, `credential_process`).
    ///   - mfaCode: a code from `credd login`; when `nil` and the profile needs one, the renewer
    ///     runs `mfa_process`.
    /// - Throws: a `RefreshFailure` whose disposition tells the engine what to do next. Should
    ///   return promptly when the calling task is cancelled.
    func renew(profile: ProfileSpec, source: AWSCredentials?, mfaCode: Secret?) async throws(RefreshFailure)
        -> AWSCredentials
}
