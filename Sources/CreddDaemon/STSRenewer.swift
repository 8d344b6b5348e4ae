import CreddConfig
import CreddCore
import CreddRefresh
import CreddSTS
import FoundationEssentials
import Logging
import Synchronization

/// Renews one managed profile with STS: obtains the calling credentials from the profile's
/// source (a managed session, static keys, keys in the Secret Service or `credential_process`), obtains an MFA code from
/// `mfa_process` when one is configured, and calls GetSessionToken or AssumeRole.
final class STSRenewer: CredentialRenewer {
    static let externalCommandTimeout: Duration = .seconds(60)

    private let profiles: ProfileDirectory
    private let transport: any STSTransport
    private let wallClock: any WallClock
    private let logger: Logger
    private let keyring: any KeyringKeys
    /// One client per endpoint, so a clock-skew correction learned once applies to later calls.
    private let clients = Mutex<[STSEndpoint: STSClient]>([:])

    init(profiles: ProfileDirectory, transport: any STSTransport, wallClock: any WallClock, logger: Logger, keyring: any KeyringKeys) {
        self.profiles = profiles
        self.keyring = keyring
        self.transport = transport
        self.wallClock = wallClock
        self.logger = logger
    }

    func renew(profile spec: ProfileSpec, source: AWSCredentials?, mfaCode: Secret?) async throws(RefreshFailure) -> AWSCredentials {
        guard let profile = profiles.profile(named: spec.name) else {
            throw RefreshFailure(disposition: .needsChange, message: "profile \(spec.name) is no longer in the config")
        }
        let caller = try await callingCredentials(for: profile, managedSource: source)
        let mfa = try await mfaToken(for: profile, given: mfaCode)
        let client = client(for: profile.stsEndpoint)
        let session: STSSession
        do {
            switch profile.kind {
            case .sessionToken:
                session = try await client.getSessionToken(credentials: caller, durationSeconds: profile.durationSeconds, mfa: mfa)
            case let .assumeRole(roleArn, externalId, roleSessionName):
                let options = profile.roleOptions
                let request = AssumeRoleRequest(
                    roleArn: roleArn, roleSessionName: roleSessionName, externalId: externalId,
                    durationSeconds: profile.durationSeconds, mfa: mfa, sourceIdentity: options.sourceIdentity,
                    tags: options.tags,
                    transitiveTagKeys: options.transitiveTagKeys, policyArns: options.policyArns, policy: options.policy?.document)
                session = try await client.assumeRole(credentials: caller, request)
            case .sso:
                // `callingCredentials` already refused: an SSO profile's source is its session.
                return caller
            }
        } catch {
            // Signed with a managed session, an unknown key id means that session was revoked
            // or is not what credd believed: the source renews (design: never keep a session STS
            // rejects), rather than this profile waiting for a config change.
            if case .managed = profile.source, error.code == "InvalidClientTokenId" {
                throw RefreshFailure(disposition: .sourceExpired, message: error.description)
            }
            throw error.refreshFailure
        }
        return await withAccount(session, of: profile, caller: caller, client: client)
    }

    /// The session with its account, for the SDKs' account-based endpoints: a role's comes from
    /// its ARN; a GetSessionToken session's from the `mfa_serial` ARN, else the source's
    /// (`aws_account_id`, a `credential_process`'s `AccountId`), else one GetCallerIdentity per
    /// session. A failed lookup leaves the account unknown rather than failing the renewal.
    private func withAccount(_ session: STSSession, of profile: ManagedProfile, caller: AWSCredentials, client: STSClient) async -> AWSCredentials {
        let credentials = session.credentials
        if let roleArn = profile.roleArn {
            return credentials.withAccountId(AWSARN.accountID(roleArn) ?? session.assumedRoleArn.flatMap(AWSARN.accountID))
        }
        if let known = profile.mfaSerial.flatMap(AWSARN.accountID) ?? caller.accountId { return credentials.withAccountId(known) }
        do {
            let identity = try await client.getCallerIdentity(credentials: credentials)
            return credentials.withAccountId(AWSARN.isAccountID(identity.account) ? identity.account : nil)
        } catch {
            logger.notice(
                "the session's account is unknown (GetCallerIdentity failed); SDKs get no AccountId for it",
                metadata: ["credd.profile": "\(profile.name)", "error": "\(error)"])
            return credentials
        }
    }

    private func callingCredentials(for profile: ManagedProfile, managedSource: AWSCredentials?) async throws(RefreshFailure) -> AWSCredentials {
        switch profile.source {
        case let .managed(name):
            guard let managedSource, managedSource.isValid(at: wallClock.now()) else {
                throw RefreshFailure(disposition: .sourceExpired, message: "waiting for source profile \(name) to have valid credentials")
            }
            return managedSource
        case let .staticKeys(credentials, _):
            return credentials
        case let .secretService(name):
            return try await keyring.keys(of: name)
        case let .credentialProcess(commandLine, _):
            do {
                return try await CredentialProcess.run(commandLine: commandLine, timeout: Self.externalCommandTimeout)
            } catch {
                throw error.refreshFailure
            }
        case .ssoSession:
            throw RefreshFailure(disposition: .needsChange, message: "profile \(profile.name) signs in with IAM Identity Center, not STS")
        }
    }

    private func mfaToken(for profile: ManagedProfile, given code: Secret?) async throws(RefreshFailure) -> MFAToken? {
        guard let serial = profile.mfaSerial else { return nil }
        if let code { return MFAToken(serialNumber: serial, code: code) }
        guard let commandLine = profile.mfaProcess else {
            throw RefreshFailure(disposition: .needsMFA, message: "needs an MFA code: run `credd login \(profile.name)`")
        }
        do {
            return MFAToken(serialNumber: serial, code: try await MFACodeCommand.run(commandLine: commandLine, timeout: Self.externalCommandTimeout))
        } catch {
            throw error.refreshFailure
        }
    }

    private func client(for endpoint: STSEndpoint) -> STSClient {
        clients.withLock { clients in
            if let client = clients[endpoint] { return client }
            let client = STSClient(
                transport: transport, endpoint: endpoint.url, signingRegion: endpoint.signingRegion,
                wallClock: wallClock, logger: logger)
            clients[endpoint] = client
            return client
        }
    }
}
