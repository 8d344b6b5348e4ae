import CreddCore
import CreddDaemon
import Foundation
import Testing

struct ControlMessagesTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETVALUE"
    static let token = "FwoGZXIvYXdzSESSIONTOKENVALUE"

    @Test func statusJSONUsesTheDocumentedFieldNames() throws {
        let document = StatusDocument(
            daemon: .init(pid: 1, version: "0.1.0", started_at: "2026-11-22T10:00:00Z", config_file: "c", credentials_file: "f", endpoint: nil, config_errors: []),
            profiles: [.init(name: "dev", state: "fresh", expiration: "2026-11-22T11:00:00Z", next_refresh: nil, last_refresh: nil, source: "mfa", error: nil)])
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(document)) as? [String: Any])
        #expect(Set(object.keys) == ["daemon", "profiles"])
        let profile = try #require((object["profiles"] as? [[String: Any]])?.first)
        for key in ["name", "state", "expiration", "source"] { #expect(profile[key] != nil, "missing \(key)") }
    }

    @Test func processCredentialsHaveVersionOneAsANumber() throws {
        let credentials = AWSCredentials(
            accessKeyId: "ASIAEXAMPLE", secretAccessKey: Secret(Self.secret), sessionToken: Secret(Self.token),
            expiration: Date(timeIntervalSince1970: 1_800_000_000))
        let json = String(decoding: try JSONEncoder().encode(ProcessCredentials(credentials)), as: UTF8.self)
        #expect(json.contains(#""Version":1"#))
        #expect(json.contains(Self.secret), "credential_process output must carry the secret")
        #expect(json.contains(#""Expiration":"2027-01-15T08:00:00Z""#))
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
