import CreddCore
import CreddPlatform
import CreddSigV4
import FoundationEssentials

/// An AWS account the signed-in user can reach.
public struct SSOAccount: Sendable, Hashable, Decodable {
    public let accountId: String
    public let accountName: String?
    public let emailAddress: String?

    public init(accountId: String, accountName: String?, emailAddress: String?) {
        self.accountId = accountId
        self.accountName = accountName
        self.emailAddress = emailAddress
    }
}

/// A role the user may take in an account.
public struct SSORole: Sendable, Hashable, Decodable {
    public let accountId: String
    public let roleName: String

    public init(accountId: String, roleName: String) {
        self.accountId = accountId
        self.roleName = roleName
    }
}

/// The portal API, called with the access token: GetRoleCredentials, ListAccounts, ListAccountRoles.
public struct SSOPortalClient: Sendable {
    public let http: SSOHTTP
    /// The portal base URL (``SSOEndpoints/portal``).
    public let endpoint: String

    public init(http: SSOHTTP, endpoint: String) {
        self.http = http
        self.endpoint = endpoint
    }

    /// The largest page the portal accepts (aws-sso-cli#1342).
    public static let maximumPageSize = 100

    /// GetRoleCredentials: a role session for `roleName` in `accountId`.
    public func roleCredentials(accountId: String, roleName: String, accessToken: Secret) async throws(SSOError) -> AWSCredentials {
        struct Response: Decodable {
            struct RoleCredentials: Decodable {
                var accessKeyId: String
                var secretAccessKey: Secret
                var sessionToken: Secret
                /// Epoch milliseconds.
                var expiration: Int64
            }
            var roleCredentials: RoleCredentials
        }
        let url =
            "\(endpoint)/federation/credentials?account_id=\(SigV4Encoding.percentEncode(accountId))"
            + "&role_name=\(SigV4Encoding.percentEncode(roleName))"
        let response = try await http.call(
            "GetRoleCredentials", method: .GET, url: url, headers: [("x-amz-sso_bearer_token", accessToken.revealed)],
            secrets: [accessToken], as: Response.self)
        let role = response.roleCredentials
        let credentials = AWSCredentials(
            accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken,
            expiration: Date(timeIntervalSince1970: TimeInterval(role.expiration) / 1000))
        guard credentials.isComplete else {
            throw SSOError(kind: .malformedResponse, operation: "GetRoleCredentials", message: "the answer holds incomplete credentials")
        }
        return credentials
    }

    /// ListAccounts, every page.
    public func accounts(accessToken: Secret, pageSize: Int = maximumPageSize) async throws(SSOError) -> [SSOAccount] {
        struct Page: Decodable {
            var accountList: [SSOAccount]?
            var nextToken: String?
        }
        return try await allPages("ListAccounts", path: "/assignment/accounts", query: [], accessToken: accessToken, pageSize: pageSize) {
            (page: Page) in (page.accountList ?? [], page.nextToken)
        }
    }

    /// ListAccountRoles, every page.
    public func roles(accountId: String, accessToken: Secret, pageSize: Int = maximumPageSize) async throws(SSOError) -> [SSORole] {
        struct Page: Decodable {
            var roleList: [SSORole]?
            var nextToken: String?
        }
        return try await allPages(
            "ListAccountRoles", path: "/assignment/roles", query: [("account_id", accountId)], accessToken: accessToken, pageSize: pageSize
        ) { (page: Page) in (page.roleList ?? [], page.nextToken) }
    }

    /// ListAccountRoles for every account, `concurrency` accounts at a time (users with hundreds
    /// of accounts would otherwise wait minutes), each call tried up to three times while the
    /// portal answers with a transient error (throttling, a server error). The first lasting
    /// failure ends the walk.
    public func roles(
        ofAccounts accountIds: [String], accessToken: Secret, concurrency: Int = 4
    ) async throws(SSOError) -> [String: [SSORole]] {
        let outcome = await withTaskGroup(of: (String, Result<[SSORole], SSOError>).self) { group -> Result<[String: [SSORole]], SSOError> in
            var pending = accountIds[...]
            func startNext() {
                guard let accountId = pending.popFirst() else { return }
                group.addTask { (accountId, await rolesRetrying(accountId: accountId, accessToken: accessToken)) }
            }
            for _ in 0..<max(concurrency, 1) { startNext() }
            var roles: [String: [SSORole]] = [:]
            while let (accountId, result) = await group.next() {
                switch result {
                case .success(let accountRoles):
                    roles[accountId] = accountRoles
                    startNext()
                case .failure(let error):
                    group.cancelAll()
                    return .failure(error)
                }
            }
            return .success(roles)
        }
        return try outcome.get()
    }

    private func rolesRetrying(accountId: String, accessToken: Secret) async -> Result<[SSORole], SSOError> {
        var attempt = 1
        while true {
            do throws(SSOError) {
                return .success(try await roles(accountId: accountId, accessToken: accessToken))
            } catch  where error.isTransient && attempt < 3 && !Task.isCancelled {
                try? await EventLoopClock().sleep(for: .seconds(attempt))
                attempt += 1
            } catch {
                return .failure(error)
            }
        }
    }

    /// Follows `next_token` until the last page; a repeated token ends the walk rather than looping.
    private func allPages<Page: Decodable, Item>(
        _ operation: String, path: String, query: [(String, String)], accessToken: Secret, pageSize: Int,
        items: (Page) -> ([Item], String?)
    ) async throws(SSOError) -> [Item] {
        var all: [Item] = []
        var nextToken: String?
        var seen: Set<String> = []
        repeat {
            var parameters = query + [("max_result", String(min(max(pageSize, 1), Self.maximumPageSize)))]
            if let nextToken { parameters.append(("next_token", nextToken)) }
            let url = endpoint + path + "?" + parameters.map { "\($0)=\(SigV4Encoding.percentEncode($1))" }.joined(separator: "&")
            let page = try await http.call(
                operation, method: .GET, url: url, headers: [("x-amz-sso_bearer_token", accessToken.revealed)], secrets: [accessToken],
                as: Page.self)
            let (pageItems, token) = items(page)
            all += pageItems
            nextToken = token.flatMap { $0.isEmpty ? nil : $0 }
            if let token = nextToken, !seen.insert(token).inserted {
                throw SSOError(kind: .malformedResponse, operation: operation, message: "the portal repeated a next_token")
            }
        } while nextToken != nil
        return all
    }
}
