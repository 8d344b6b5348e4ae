import CreddCore
import CreddCredentialsFile
import CreddSTS

/// The IAM calls rotation makes. `IAMClient` in production; tests script a fake.
public protocol AccessKeyManaging: Sendable {
    func listAccessKeys(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> [AccessKeyMetadata]
    func createAccessKey(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> NewAccessKey
    func updateAccessKey(accessKeyId: String, status: AccessKeyStatus, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError)
    func deleteAccessKey(accessKeyId: String, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError)
}

/// STS `GetCallerIdentity`: who a key belongs to, and whether STS accepts it yet.
public protocol CallerIdentityChecking: Sendable {
    func getCallerIdentity(credentials: AWSCredentials) async throws(AWSQueryError) -> CallerIdentity
}

/// The section of the credentials file that holds the keys being rotated.
/// `CredentialsFileKeyStore` in production.
public protocol SourceKeyStore: Sendable {
    /// The credentials file, for messages.
    var path: String { get }
    func sourceKeys(inSection section: String) async throws(CredentialsFileError) -> AWSCredentials
    func replaceSourceKeys(inSection section: String, replacing expectedAccessKeyId: String, with newKeys: AWSCredentials)
        async throws(CredentialsFileError)
}

extension IAMClient: AccessKeyManaging {}
extension STSClient: CallerIdentityChecking {}
