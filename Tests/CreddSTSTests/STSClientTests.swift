import CreddCore
import CreddSTS
import CreddSigV4
import Foundation
import Testing

@Suite struct STSClientSuccessTests {
    @Test func getSessionTokenSendsSignedFormAndDecodesCredentials() async throws {
        let transport = FakeTransport([.ok(STSXML.getSessionToken())])
        let client = try makeClient(transport)

        let session = try await client.getSessionToken(
            credentials: Fake.longTerm, durationSeconds: 43200,
            mfa: MFAToken(serialNumber: "arn:aws:iam::111111111111:mfa/alice", code: Secret(Fake.mfaCode)))

        #expect(session.credentials.accessKeyId == "ASIARESPONSE000000")
        #expect(session.credentials.secretAccessKey.revealed == Fake.responseSecret)
        #expect(session.credentials.sessionToken?.revealed == Fake.responseToken)
        #expect(session.credentials.expiration == AWSTimestamp.parse("2026-11-22T23:00:00Z"))
        #expect(session.credentials.isValid(at: Fake.now))
        #expect(session.assumedRoleArn == nil)
        #expect(session.requestId == "58c5dbae-abef-11e0-8cfe-09039844ac7d")

        let request = try #require(transport.sent.first)
        #expect(request.url.absoluteString == "https://sts.eu-west-1.amazonaws.com")
        #expect(
            formFields(request) == [
                "Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": "43200",
                "SerialNumber": "arn:aws:iam::111111111111:mfa/alice", "TokenCode": Fake.mfaCode,
            ])
        #expect(header(request, "Host") == "sts.eu-west-1.amazonaws.com")
        #expect(header(request, "Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(header(request, "X-Amz-Date") == "20261122T220000Z")
        #expect(header(request, "X-Amz-Security-Token") == nil)
        let authorization = try #require(header(request, "Authorization"))
        #expect(
            authorization.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIAFAKE0000000000/20261122/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
            ))
        Fake.expectNoSecrets("\(session)")
    }

    @Test func signatureVerifiesAgainstTheSigner() async throws {
        let transport = FakeTransport([.ok(STSXML.getSessionToken())])
        _ = try await makeClient(transport).getSessionToken(credentials: Fake.session, durationSeconds: nil, mfa: nil)
        let request = try #require(transport.sent.first)
        // Re-sign what was sent, minus the signing headers, and compare.
        let unsigned = SigV4Request(
            method: "POST", path: "/",
            headers: request.headers.filter { !["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased()) },
            body: request.body)
        let expected = SigV4Signer.sign(unsigned, credentials: Fake.session, region: "eu-west-1", service: "sts", date: Fake.now)
        #expect(header(request, "Authorization") == expected.authorization)
        #expect(header(request, "X-Amz-Security-Token") == Fake.sessionToken)
        #expect(formFields(request) == ["Action": "GetSessionToken", "Version": "2011-06-15"])
    }

    @Test func assumeRoleSendsParametersAndDecodesRoleArn() async throws {
        let transport = FakeTransport([.ok(STSXML.assumeRole)])
        let client = try makeClient(transport, endpoint: "http://127.0.0.1:4566", region: "us-east-1")
        let session = try await client.assumeRole(
            credentials: Fake.session,
            AssumeRoleRequest(
                roleArn: "arn:aws:iam::222222222222:role/Developer", roleSessionName: "alice", externalId: "ext id/1",
                durationSeconds: 3600, mfa: MFAToken(serialNumber: "GAHT12345678", code: Secret("654321"))))

        #expect(session.assumedRoleArn == "arn:aws:sts::222222222222:assumed-role/Developer/alice")
        #expect(session.requestId == "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
        #expect(session.credentials.isComplete)
        let request = try #require(transport.sent.first)
        #expect(header(request, "Host") == "127.0.0.1:4566")
        #expect(
            formFields(request) == [
                "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::222222222222:role/Developer",
                "RoleSessionName": "alice", "ExternalId": "ext id/1", "DurationSeconds": "3600",
                "SerialNumber": "GAHT12345678", "TokenCode": "654321",
            ])
        #expect(String(decoding: request.body, as: UTF8.self).contains("ExternalId=ext%20id%2F1"))
    }

    @Test func assumeRoleSendsSourceIdentityTagsAndSessionPolicies() async throws {
        let transport = FakeTransport([.ok(STSXML.assumeRole)])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await makeClient(transport).assumeRole(
            credentials: Fake.session,
            AssumeRoleRequest(
                roleArn: "arn:aws:iam::222222222222:role/Developer", roleSessionName: "alice", durationSeconds: 7200,
                sourceIdentity: "alice@example.com",
                tags: [.init(key: "team", value: "infra"), .init(key: "cost center", value: "42"), .init(key: "empty", value: "")],
                transitiveTagKeys: ["team", "cost center"],
                policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws-cn:iam::123456789012:policy/Mine"], policy: policy))
        let request = try #require(transport.sent.first)
        #expect(
            formFields(request) == [
                "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::222222222222:role/Developer",
                "RoleSessionName": "alice", "DurationSeconds": "7200", "SourceIdentity": "alice@example.com",
                "Tags.member.1.Key": "team", "Tags.member.1.Value": "infra",
                "Tags.member.2.Key": "cost center", "Tags.member.2.Value": "42",
                "Tags.member.3.Key": "empty", "Tags.member.3.Value": "",
                "TransitiveTagKeys.member.1": "team", "TransitiveTagKeys.member.2": "cost center",
                "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "PolicyArns.member.2.arn": "arn:aws-cn:iam::123456789012:policy/Mine",
                "Policy": policy,
            ])
        let body = String(decoding: request.body, as: UTF8.self)
        #expect(body.contains("Tags.member.2.Key=cost%20center"))
        #expect(body.contains("Policy=%7B%22Version%22%3A%222012-10-17%22"))
    }

    @Test func assumeRoleGeneratesSessionNameWhenNotConfigured() async throws {
        let transport = FakeTransport([.ok(STSXML.assumeRole)])
        _ = try await makeClient(transport).assumeRole(
            credentials: Fake.session, AssumeRoleRequest(roleArn: "arn:aws:iam::222222222222:role/Developer"))
        let request = try #require(transport.sent.first)
        let name = try #require(formFields(request)["RoleSessionName"])
        #expect(name == "credd-\(Int(Fake.now.timeIntervalSince1970))")
        #expect(RoleSessionName.isValid(name))
    }

    @Test func invalidConfiguredSessionNameFailsWithoutARequest() async throws {
        let transport = FakeTransport([])
        let error = await #expect(throws: STSError.self) {
            try await makeClient(transport).assumeRole(
                credentials: Fake.session, AssumeRoleRequest(roleArn: "arn:aws:iam::2:role/R", roleSessionName: "alice smith"))
        }
        #expect(error?.kind == .invalidParameter)
        #expect(error?.disposition == .needsChange)
        #expect(error?.description.contains("role_session_name 'alice smith'") == true)
        #expect(transport.sent.isEmpty)
    }

    @Test func expirationWithMillisecondsIsAccepted() async throws {
        let transport = FakeTransport([.ok(STSXML.getSessionToken(expiration: "2011-07-11T19:55:29.611Z"))])
        let session = try await makeClient(transport).getSessionToken(credentials: Fake.longTerm, durationSeconds: nil, mfa: nil)
        #expect(session.credentials.expiration == Date(timeIntervalSince1970: 1_310_414_129.611))
    }

    @Test func getCallerIdentityDecodes() async throws {
        let transport = FakeTransport([.ok(STSXML.callerIdentity)])
        let identity = try await makeClient(transport).getCallerIdentity(credentials: Fake.longTerm)
        #expect(identity.account == "111111111111")
        #expect(identity.arn == "arn:aws:iam::111111111111:user/alice")
        #expect(identity.userId == "AIDAFAKEUSERID")
        #expect(identity.requestId == "01234567-89ab-cdef-0123-456789abcdef")
    }
}

@Suite struct RoleSessionNameTests {
    @Test(arguments: [
        ("alice", "credd-alice-1795384800"),
        ("alice smith (admin)", "credd-alice-smith--admin--1795384800"),
        ("jürgen", "credd-j-rgen-1795384800"),
        (String(repeating: "x", count: 100), "credd-" + String(repeating: "x", count: 47) + "-1795384800"),
    ])
    func generatedNamesFitAWSPattern(user: String, expected: String) {
        let name = RoleSessionName.generate(userName: user, now: Fake.now)
        #expect(name == expected)
        #expect(name.count <= 64)
        #expect(RoleSessionName.isValid(name))
    }

    @Test(arguments: [("a", false), ("ab", true), ("a b", false), ("a+=,.@-_9", true), (String(repeating: "a", count: 65), false)])
    func validation(name: String, valid: Bool) {
        #expect(RoleSessionName.isValid(name) == valid)
    }
}
