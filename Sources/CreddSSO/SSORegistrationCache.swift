import CreddCore
import Crypto
import FoundationEssentials

/// The client registration cache the AWS CLI v2 keeps beside the tokens:
/// `<sha1 of json.dumps({"region", "scopes", "session_name", "startUrl", "tool": "botocore"}, sort_keys=True)>.json`
/// with `clientId`, `clientSecret`, `expiresAt`, `scopes` and `grantTypes`.
public struct SSORegistrationCache: Sendable {
    public let tokens: SSOTokenCache

    public init(tokens: SSOTokenCache) {
        self.tokens = tokens
    }

    /// The file name's hash input exactly as Python's `json.dumps(…, sort_keys=True)` prints it.
    public static func keySource(sessionName: String, startURL: String, region: String, scopes: [String]) -> String {
        "{\"region\": \(pythonJSON(region)), \"scopes\": [\(scopes.map(pythonJSON).joined(separator: ", "))], "
            + "\"session_name\": \(pythonJSON(sessionName)), \"startUrl\": \(pythonJSON(startURL)), \"tool\": \"botocore\"}"
    }

    public func path(sessionName: String, startURL: String, region: String, scopes: [String]) -> String {
        let source = Self.keySource(sessionName: sessionName, startURL: startURL, region: region, scopes: scopes)
        return "\(tokens.directory)/\(SSOTokenCache.key(sessionName: source, startURL: startURL)).json"
    }

    /// The cached registration, if it exists, is valid at `now` and allows `grantType`
    /// (`authorization_code` for PKCE; `nil` for the device flow, whose registrations list none).
    public func load(sessionName: String, startURL: String, region: String, scopes: [String], grantType: String?, now: Date) -> SSOClientRegistration?
    {
        let file = path(sessionName: sessionName, startURL: startURL, region: region, scopes: scopes)
        guard let bytes = try? SSOTokenCache.read(file),
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(bytes)),
            let clientId = object["clientId"]?.stringValue, let clientSecret = object["clientSecret"]?.stringValue,
            let expiresAt = object["expiresAt"]?.stringValue.flatMap(AWSTimestamp.parse), expiresAt > now
        else { return nil }
        let grantTypes: [String]
        if case .array(let values)? = object["grantTypes"] { grantTypes = values.compactMap(\.stringValue) } else { grantTypes = [] }
        if let grantType, !grantTypes.contains(grantType) { return nil }
        if grantType == nil, !grantTypes.isEmpty { return nil }
        return SSOClientRegistration(clientId: clientId, clientSecret: Secret(clientSecret), expiresAt: expiresAt)
    }

    public func store(
        _ registration: SSOClientRegistration, sessionName: String, startURL: String, region: String, scopes: [String], grantTypes: [String]
    ) throws(SSOError) {
        var object: [String: JSONValue] = [
            "clientId": .string(registration.clientId), "clientSecret": .string(registration.clientSecret.revealed),
            "expiresAt": .string(AWSTimestamp.format(registration.expiresAt)), "scopes": .array(scopes.map(JSONValue.string)),
        ]
        if !grantTypes.isEmpty { object["grantTypes"] = .array(grantTypes.map(JSONValue.string)) }
        try tokens.storeFile(
            SSOTokenCoding.encodeObject(object), at: path(sessionName: sessionName, startURL: startURL, region: region, scopes: scopes))
    }

    /// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`: non-ASCII as `\uXXXX`).
    static func pythonJSON(_ text: String) -> String {
        var result = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: result += "\\\""
            case 0x5C: result += "\\\\"
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0x09: result += "\\t"
            case 0x08: result += "\\b"
            case 0x0C: result += "\\f"
            case 0x20..<0x7F: result.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return result + "\""
    }
}
