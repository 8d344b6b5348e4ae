import CreddCore
import FoundationEssentials
import Logging

/// The IAM Query API (2010-05-08) calls that manage a user's access keys.
///
/// Built on `AWSQueryClient`, so signing, transport, retries, clock-skew correction and error
/// decoding are the STS client's. `userName` may be `nil` on every call: IAM then acts on the
/// user whose credentials sign the request.
public struct IAMClient: Sendable {
    public static let service = AWSQueryClient.Service(displayName: "IAM", signingName: "iam", apiVersion: "2010-05-08")

    /// A user holds at most two keys; more than a few pages means the endpoint is not IAM.
    private static let maxListPages = 10

    private let query: AWSQueryClient

    public init(
        transport: any STSTransport,
        endpoint: IAMEndpoint = .global,
        wallClock: any WallClock,
        retryPolicy: RetryPolicy = .default,
        retryTiming: RetryTiming = .live,
        logger: Logger = Logger(label: "credd.iam")
    ) {
        self.query = AWSQueryClient(
            service: Self.service, transport: transport, endpoint: endpoint.url, signingRegion: endpoint.signingRegion,
            wallClock: wallClock, retryPolicy: retryPolicy, retryTiming: retryTiming, logger: logger)
    }

    /// Every access key of the user, following `Marker` pages.
    public func listAccessKeys(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> [AccessKeyMetadata] {
        var keys: [AccessKeyMetadata] = []
        var marker: String?
        for _ in 0..<Self.maxListPages {
            var parameters = userParameter(userName)
            if let marker { parameters.append(("Marker", marker)) }
            let response = try await query.perform(action: "ListAccessKeys", parameters: parameters, credentials: credentials)
            for member in response.result.child("AccessKeyMetadata")?.children ?? [] where member.name == "member" {
                keys.append(try metadata(from: member, action: "ListAccessKeys", requestId: response.requestId))
            }
            guard response.result.child("IsTruncated")?.text.trimmed == "true" else { return keys }
            guard let next = response.result.child("Marker")?.text.trimmed, !next.isEmpty else {
                throw malformed(action: "ListAccessKeys", requestId: response.requestId, problem: "IsTruncated without a Marker")
            }
            marker = next
        }
        throw malformed(action: "ListAccessKeys", requestId: nil, problem: "more than \(Self.maxListPages) pages of access keys")
    }

    /// Creates a new active key. Its secret is in the result and nowhere else.
    public func createAccessKey(userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) -> NewAccessKey {
        let response = try await query.perform(action: "CreateAccessKey", parameters: userParameter(userName), credentials: credentials)
        guard let element = response.result.child("AccessKey") else {
            throw malformed(action: "CreateAccessKey", requestId: response.requestId, problem: "no AccessKey element")
        }
        let metadata = try metadata(from: element, action: "CreateAccessKey", requestId: response.requestId)
        guard let secret = element.child("SecretAccessKey")?.text.trimmed, !secret.isEmpty else {
            throw malformed(
                action: "CreateAccessKey", requestId: response.requestId,
                problem: "no SecretAccessKey for the new key \(metadata.accessKeyId); delete that key, IAM will not show its secret again")
        }
        return NewAccessKey(
            metadata: metadata, credentials: AWSCredentials(accessKeyId: metadata.accessKeyId, secretAccessKey: Secret(secret)),
            requestId: response.requestId)
    }

    /// Sets a key's status (`Inactive` retires it without deleting it).
    public func updateAccessKey(
        accessKeyId: String, status: AccessKeyStatus, userName: String?, credentials: AWSCredentials
    ) async throws(AWSQueryError) {
        let parameters = userParameter(userName) + [("AccessKeyId", accessKeyId), ("Status", status.rawValue)]
        _ = try await query.perform(action: "UpdateAccessKey", parameters: parameters, credentials: credentials, expectsResult: false)
    }

    /// Deletes a key for good.
    public func deleteAccessKey(accessKeyId: String, userName: String?, credentials: AWSCredentials) async throws(AWSQueryError) {
        let parameters = userParameter(userName) + [("AccessKeyId", accessKeyId)]
        _ = try await query.perform(action: "DeleteAccessKey", parameters: parameters, credentials: credentials, expectsResult: false)
    }

    private func userParameter(_ userName: String?) -> [(name: String, value: String)] {
        userName.map { [("UserName", $0)] } ?? []
    }

    private func metadata(from element: AWSXMLElement, action: String, requestId: String?) throws(AWSQueryError) -> AccessKeyMetadata {
        guard let accessKeyId = element.child("AccessKeyId")?.text.trimmed, !accessKeyId.isEmpty,
            let statusText = element.child("Status")?.text.trimmed, let createText = element.child("CreateDate")?.text
        else {
            throw malformed(action: action, requestId: requestId, problem: "an access key without AccessKeyId, Status or CreateDate")
        }
        guard let status = AccessKeyStatus(rawValue: statusText) else {
            throw malformed(action: action, requestId: requestId, problem: "key \(accessKeyId) has the unknown status '\(statusText)'")
        }
        guard let createDate = AWSTimestamp.parse(createText) else {
            throw malformed(action: action, requestId: requestId, problem: "key \(accessKeyId) has an unreadable CreateDate")
        }
        return AccessKeyMetadata(
            accessKeyId: accessKeyId, status: status, createDate: createDate, userName: element.child("UserName")?.text.trimmed ?? "")
    }

    private func malformed(action: String, requestId: String?, problem: String) -> AWSQueryError {
        AWSQueryError(
            service: Self.service.displayName, action: action, kind: .malformedResponse, code: nil,
            message: "the response has \(problem)", requestId: requestId, httpStatus: 200, attempts: 1, disposition: .retryable)
    }
}

extension String {
    fileprivate var trimmed: String { trimmingWhitespace(newlines: true) }
}
