import CreddCore
import FoundationEssentials

/// One profile's credentials in the shapes the endpoint serves, rendered once when they are
/// published: they change only on renewal but are served on every request.
public struct PublishedCredentials: Sendable {
    /// The answers with the IMDS credential document and the container API's, or `nil` when the
    /// credentials are not complete temporary ones (SDKs need the token and the expiry).
    let responses: (imds: EndpointResponse, container: EndpointResponse)?
    let expiration: Date?

    public init(_ credentials: AWSCredentials, roleArn: String?, lastUpdated: Date) {
        self.expiration = credentials.expiration
        guard credentials.isComplete, let sessionToken = credentials.sessionToken, !sessionToken.isEmpty,
            let expiration = credentials.expiration
        else {
            self.responses = nil
            return
        }
        let expires = AWSTimestamp.format(expiration)
        // The renewer's account (role ARN, mfa_serial, aws_account_id or GetCallerIdentity),
        // else the role ARN's.
        let account = credentials.accountId ?? roleArn.flatMap(AWSARN.accountID)
        var imds: [(key: String, value: String)] = [
            (key: "Code", value: "Success"),
            (key: "LastUpdated", value: AWSTimestamp.format(lastUpdated)),
            (key: "Type", value: "AWS-HMAC"),
            (key: "AccessKeyId", value: credentials.accessKeyId),
            (key: "SecretAccessKey", value: credentials.secretAccessKey.revealed),
            (key: "Token", value: sessionToken.revealed),
            (key: "Expiration", value: expires),
        ]
        var container: [(key: String, value: String)] = [
            (key: "AccessKeyId", value: credentials.accessKeyId),
            (key: "SecretAccessKey", value: credentials.secretAccessKey.revealed),
            (key: "Token", value: sessionToken.revealed),
            (key: "Expiration", value: expires),
        ]
        if let roleArn { container.append((key: "RoleArn", value: roleArn)) }
        if let account {
            imds.append((key: "AccountId", value: account))
            container.append((key: "AccountId", value: account))
        }
        self.responses = (
            // EC2 serves metadata as text/plain; SDKs parse the body as JSON regardless.
            imds: EndpointResponse(
                status: .ok, contentType: "text/plain", body: JSONText.object(imds), extraHeaders: EndpointRouter.noStore, route: .imdsCredentials),
            container: EndpointResponse(
                status: .ok, contentType: "application/json", body: JSONText.object(container), extraHeaders: EndpointRouter.noStore,
                route: .containerCredentials
            )
        )
    }

    /// The responses to serve at `now`; `nil` once expired.
    func servableResponses(at now: Date) -> (imds: EndpointResponse, container: EndpointResponse)? {
        guard let responses, let expiration, expiration > now else { return nil }
        return responses
    }
}
