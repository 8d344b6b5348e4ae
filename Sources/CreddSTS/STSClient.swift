import CreddCore
import FoundationEssentials
import Logging

/// The STS Query API (2011-06-15): GetSessionToken, AssumeRole and GetCallerIdentity.
///
/// Copies share the clock-skew offset. The endpoint and signing region come already resolved
/// (by the config module, docs/design.md §2).
public struct STSClient: Sendable {
    public static let service = AWSQueryClient.Service(displayName: "STS", signingName: "sts", apiVersion: "2011-06-15")

    private let query: AWSQueryClient
    private let wallClock: any WallClock

    public init(
        transport: any STSTransport,
        endpoint: URL,
        signingRegion: String,
        wallClock: any WallClock,
        retryPolicy: RetryPolicy = .default,
        retryTiming: RetryTiming = .live,
        logger: Logger = Logger(label: "credd.sts")
    ) {
        self.wallClock = wallClock
        self.query = AWSQueryClient(
            service: Self.service, transport: transport, endpoint: endpoint, signingRegion: signingRegion,
            wallClock: wallClock, retryPolicy: retryPolicy, retryTiming: retryTiming, logger: logger)
    }

    /// Seconds added to the local clock when signing, learned from a clock-skew error.
    public var clockOffset: TimeInterval { query.clockOffset }

    /// A session for long-term IAM user keys, with MFA when `mfa` is given.
    public func getSessionToken(
        credentials: AWSCredentials, durationSeconds: Int?, mfa: MFAToken?
    ) async throws(STSError) -> STSSession {
        var parameters: [(name: String, value: String)] = []
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        if let mfa {
            parameters.append(("SerialNumber", mfa.serialNumber))
            parameters.append(("TokenCode", mfa.code.revealed))
        }
        let response = try await query.perform(
            action: "GetSessionToken", parameters: parameters, secretParameters: mfa.map { [$0.code] } ?? [],
            credentials: credentials)
        return try session(from: response, action: "GetSessionToken", scrubbing: credentials)
    }

    /// Assumes `request.roleArn`, generating a session name when none is configured.
    public func assumeRole(credentials: AWSCredentials, _ request: AssumeRoleRequest) async throws(STSError) -> STSSession {
        let sessionName = request.roleSessionName ?? RoleSessionName.generate(userName: nil, now: wallClock.now())
        guard RoleSessionName.isValid(sessionName) else {
            throw STSError(
                service: Self.service.displayName, action: "AssumeRole", kind: .invalidParameter, code: nil,
                message: "role_session_name '\(sessionName)' must be 2 to 64 characters of letters, digits and _+=,.@-",
                requestId: nil, httpStatus: nil, attempts: 0, disposition: .needsChange)
        }
        var parameters: [(name: String, value: String)] = [("RoleArn", request.roleArn), ("RoleSessionName", sessionName)]
        if let externalId = request.externalId { parameters.append(("ExternalId", externalId)) }
        if let durationSeconds = request.durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        if let mfa = request.mfa {
            parameters.append(("SerialNumber", mfa.serialNumber))
            parameters.append(("TokenCode", mfa.code.revealed))
        }
        if let sourceIdentity = request.sourceIdentity { parameters.append(("SourceIdentity", sourceIdentity)) }
        // Query-protocol lists: `Name.member.N`, numbered from 1.
        for (index, tag) in zip(1..., request.tags) {
            parameters.append(("Tags.member.\(index).Key", tag.key))
            parameters.append(("Tags.member.\(index).Value", tag.value))
        }
        for (index, key) in zip(1..., request.transitiveTagKeys) { parameters.append(("TransitiveTagKeys.member.\(index)", key)) }
        for (index, arn) in zip(1..., request.policyArns) { parameters.append(("PolicyArns.member.\(index).arn", arn)) }
        if let policy = request.policy { parameters.append(("Policy", policy)) }
        let response = try await query.perform(
            action: "AssumeRole", parameters: parameters, secretParameters: request.mfa.map { [$0.code] } ?? [],
            credentials: credentials)
        return try session(from: response, action: "AssumeRole", scrubbing: credentials)
    }

    /// Who `credentials` belong to; a cheap check that they work.
    public func getCallerIdentity(credentials: AWSCredentials) async throws(STSError) -> CallerIdentity {
        let response = try await query.perform(action: "GetCallerIdentity", parameters: [], credentials: credentials)
        guard let account = response.result.child("Account")?.text, let arn = response.result.child("Arn")?.text,
            let userId = response.result.child("UserId")?.text
        else {
            throw malformed(action: "GetCallerIdentity", requestId: response.requestId, missing: "Account, Arn or UserId")
        }
        return CallerIdentity(account: account, arn: arn, userId: userId, requestId: response.requestId)
    }

    /// Decodes `<Credentials>`; partial or expired-looking credentials are an error, never a session.
    private func session(
        from response: AWSQueryClient.Response, action: String, scrubbing caller: AWSCredentials
    ) throws(STSError) -> STSSession {
        let element = response.result.child("Credentials")
        func field(_ name: String) -> String? {
            element?.child(name)?.text.trimmingWhitespace(newlines: true).nonEmpty
        }
        guard let accessKeyId = field("AccessKeyId"), let secret = field("SecretAccessKey"), let token = field("SessionToken"),
            let expirationText = field("Expiration")
        else {
            throw malformed(
                action: action, requestId: response.requestId,
                missing: "Credentials/AccessKeyId, SecretAccessKey, SessionToken or Expiration")
        }
        guard let expiration = AWSTimestamp.parse(expirationText) else {
            throw malformed(action: action, requestId: response.requestId, missing: "a readable Credentials/Expiration")
        }
        let credentials = AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: Secret(secret), sessionToken: Secret(token), expiration: expiration)
        return STSSession(
            credentials: credentials, assumedRoleArn: response.result.child(at: "AssumedRoleUser", "Arn")?.text,
            requestId: response.requestId)
    }

    private func malformed(action: String, requestId: String?, missing: String) -> STSError {
        STSError(
            service: Self.service.displayName, action: action, kind: .malformedResponse, code: nil,
            message: "the response lacks \(missing)", requestId: requestId, httpStatus: 200, attempts: 1,
            disposition: .retryable)
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
