import CreddControl
import CreddCore
import Foundation
import Testing

struct ControlMessagesTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETVALUE"
    static let token = "FwoGZXIvYXdzSESSIONTOKENVALUE"

    @Test func statusJSONUsesTheDocumentedFieldNames() throws {
        let document = StatusDocument(
            daemon: .init(
                pid: 1, version: "0.1.0", startedAt: "2026-11-22T10:00:00Z", configFile: "c", credentialsFile: "f", endpoint: "http://127.0.0.1:9911",
                configErrors: []),
            profiles: [
                .init(name: "dev", state: "fresh", expiration: "2026-11-22T11:00:00Z", nextRefresh: nil, lastRefresh: nil, source: "mfa", error: nil)
            ])
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(document)) as? [String: Any])
        #expect(Set(object.keys) == ["daemon", "profiles", "sso_sessions"])
        #expect((object["sso_sessions"] as? [Any])?.isEmpty == true, "no SSO profiles: an empty list")
        let profile = try #require((object["profiles"] as? [[String: Any]])?.first)
        #expect(Set(profile.keys) == ["name", "state", "expiration", "next_refresh", "last_refresh", "source", "error", "action", "rotation"])
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(Set(daemon.keys) == ["pid", "version", "started_at", "config_file", "credentials_file", "endpoint", "config_errors"])
        #expect(profile["action"] is NSNull, "a fresh profile needs nothing: null")
        #expect(profile["error"] is NSNull, "unknown values are null, not missing")
        #expect(profile["rotation"] is NSNull, "no rotate_after: null")
    }

    @Test func ssoSessionFieldsAreAllPresentAndNamedAsDocumented() throws {
        let action = StatusDocument.Action(kind: "login", profile: "corp", command: "credd login corp", deadline: nil, mfaSerial: nil)
        let session = StatusDocument.SSOSession(
            name: "corp", startURL: "https://corp.awsapps.com/start", region: "us-east-1", state: "needs_login", tokenExpiration: nil,
            canRefresh: false, registrationExpiration: "2027-02-20T10:00:00Z", loginNeededAt: nil, lastRefresh: nil,
            error: "no token in the cache: run `credd login corp`", action: action)
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(session)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "name", "start_url", "region", "state", "token_expiration", "can_refresh", "registration_expiration", "login_needed_at",
                "last_refresh", "error", "action",
            ])
        #expect(object["token_expiration"] is NSNull)
        #expect(try JSONDecoder().decode(StatusDocument.SSOSession.self, from: JSONEncoder().encode(session)) == session)
    }

    @Test func statusFromADaemonWithoutSSOSessionsDecodes() throws {
        let old =
            #"{"daemon": {"pid": 1, "version": "0.1.0", "started_at": "2026-11-22T10:00:00Z", "config_file": "c", "credentials_file": "f", "endpoint": null, "config_errors": []}, "profiles": []}"#
        let document = try JSONDecoder().decode(StatusDocument.self, from: Data(old.utf8))
        #expect(document.ssoSessions.isEmpty)
        #expect(document.isHealthy)
    }

    @Test func rotationFieldsAreAllPresentAndNamedAsDocumented() throws {
        let rotation = StatusDocument.Rotation(
            state: "scheduled", rotateAfter: "90d", section: "alice", keyId: "AKIAEXAMPLEKEY000001", keyCreated: "2026-11-01T10:00:00Z",
            keyAgeSeconds: 60, nextRotation: "2027-01-30T10:00:00Z", lastRotation: nil, leftoverKeyIds: [], lastError: nil,
            unavailableReason: nil, keysIn: "keyring")
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(rotation)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "state", "rotate_after", "section", "keys_in", "key_id", "key_created", "key_age_seconds", "next_rotation", "last_rotation",
                "leftover_key_ids", "last_error", "unavailable_reason",
            ])
        #expect(object["last_rotation"] is NSNull)
        #expect(try JSONDecoder().decode(StatusDocument.Rotation.self, from: JSONEncoder().encode(rotation)) == rotation)
    }

    @Test func actionFieldsAreAllPresentAndNamedAsDocumented() throws {
        let action = StatusDocument.Action(kind: "retry", profile: "dev", command: "credd refresh dev", deadline: nil, mfaSerial: nil)
        var profile = StatusDocument.Profile(
            name: "dev", state: "error", expiration: nil, nextRefresh: nil, lastRefresh: nil, source: "mfa", error: "AccessDenied")
        profile.action = action
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(profile)) as? [String: Any])
        let encoded = try #require(object["action"] as? [String: Any])
        #expect(Set(encoded.keys) == ["kind", "profile", "command", "deadline", "mfa_serial"])
        #expect(encoded["deadline"] is NSNull && encoded["mfa_serial"] is NSNull)
        #expect(try JSONDecoder().decode(StatusDocument.Profile.self, from: JSONEncoder().encode(profile)) == profile)
    }

    @Test func aRejectedCodeTravelsAsCodeRejected() throws {
        let response = ControlResponse(ok: false, error: "mfa: AccessDenied", codeRejected: true)
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(response)) as? [String: Any])
        #expect(object["code_rejected"] as? Bool == true)
        #expect(try JSONDecoder().decode(ControlResponse.self, from: JSONEncoder().encode(response)).codeRejected == true)
    }

    @Test func processCredentialsHaveVersionOneAsANumber() throws {
        let credentials = AWSCredentials(
            accessKeyId: "ASIAEXAMPLE", secretAccessKey: Secret(Self.secret), sessionToken: Secret(Self.token),
            expiration: Date(timeIntervalSince1970: 1_800_000_000))
        let json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(ProcessCredentials(credentials))) as? [String: Any])
        #expect(json["Version"] as? Int == 1)
        #expect(json["SecretAccessKey"] as? String == Self.secret, "credential_process output must carry the secret")
        #expect(json["SessionToken"] as? String == Self.token)
        #expect(json["Expiration"] as? String == "2027-01-15T08:00:00Z")
    }

    @Test func descriptionsOfMessagesNeverShowSecrets() {
        let request = ControlRequest(command: .login, profile: "mfa", code: Secret("123456"))
        let credentials = AWSCredentials(accessKeyId: "ASIAEXAMPLE", secretAccessKey: Secret(Self.secret), sessionToken: Secret(Self.token))
        let text = "\(request) \(ProcessCredentials(credentials)) \(String(reflecting: ProcessCredentials(credentials)))"
        #expect(!text.contains("123456"))
        #expect(!text.contains(Self.secret))
        #expect(!text.contains(Self.token))
    }
}
