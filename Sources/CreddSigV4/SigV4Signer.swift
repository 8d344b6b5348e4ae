import CreddCore
import Crypto
import FoundationEssentials

/// AWS Signature Version 4 header signing, as a pure function of its inputs.
///
/// Follows botocore's `SigV4Auth`: every header is signed except the hop-by-hop and
/// tracing headers proxies rewrite, and a session token is sent and signed as
/// `X-Amz-Security-Token`.
public enum SigV4Signer {
    /// Options that differ between services.
    public struct Configuration: Sendable, Hashable {
        /// Remove `.`/`..` segments and empty segments from the path before encoding.
        /// Every service but S3 expects this.
        public var normalizesPath: Bool

        public init(normalizesPath: Bool = true) {
            self.normalizesPath = normalizesPath
        }
    }

    /// Headers botocore leaves unsigned because proxies and HTTP stacks add, drop or rewrite them.
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    static let algorithm = "AWS4-HMAC-SHA256"

    /// Signs `request`: returns it with `X-Amz-Date`, `X-Amz-Security-Token` (when the
    /// credentials carry a token) and `Authorization` set, plus the intermediate strings.
    public static func sign(
        _ request: SigV4Request,
        credentials: AWSCredentials,
        region: String,
        service: String,
        date: Date,
        configuration: Configuration = Configuration()
    ) -> SigV4SignedRequest {
        let amzDate = amzDateString(date)
        let scopeDate = String(amzDate.prefix(8))
        let scope = "\(scopeDate)/\(region)/\(service)/aws4_request"

        var prepared = request
        let replacedNames: Set<String> = ["x-amz-date", "x-amz-security-token", "authorization"]
        prepared.headers.removeAll { replacedNames.contains($0.name.lowercased()) }
        prepared.headers.append(.init(name: "X-Amz-Date", value: amzDate))
        if let token = credentials.sessionToken {
            prepared.headers.append(.init(name: "X-Amz-Security-Token", value: token.revealed))
        }

        let canonical = canonicalRequest(prepared, configuration: configuration)
        let stringToSign = [algorithm, amzDate, scope, hexSHA256(Array(canonical.text.utf8))].joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, scopeDate: scopeDate, region: region, service: service)
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "\(algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        prepared.headers.append(.init(name: "Authorization", value: authorization))

        return SigV4SignedRequest(
            request: prepared,
            canonicalRequest: canonical.text,
            stringToSign: stringToSign,
            signature: signature,
            authorization: authorization
        )
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC, the `X-Amz-Date` format.
    public static func amzDateString(_ date: Date) -> String {
        AWSTimestamp.format(date).filter { $0 != "-" && $0 != ":" }
    }

    static func canonicalRequest(
        _ request: SigV4Request,
        configuration: Configuration
    ) -> (text: String, signedHeaders: String) {
        var valuesByName: [String: [String]] = [:]
        for header in request.headers where !unsignedHeaderNames.contains(header.name.lowercased()) {
            valuesByName[header.name.lowercased(), default: []].append(trimAll(header.value))
        }
        let names = valuesByName.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\((valuesByName[$0] ?? []).joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let path = configuration.normalizesPath ? SigV4Encoding.normalizedPath(request.path) : request.path
        let text = [
            request.method,
            SigV4Encoding.encodedPath(path),
            SigV4Encoding.canonicalQuery(request.queryItems),
            canonicalHeaders,
            signedHeaders,
            hexSHA256(request.body),
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Outer whitespace removed and inner runs (including folded lines) collapsed to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    static func signingKey(secret: Secret, scopeDate: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secret.revealed)".utf8))
        for part in [scopeDate, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    /// Lowercase hex of the SHA-256 of `bytes`: the payload hash and the canonical-request hash.
    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}

/// The output of `SigV4Signer.sign`: the request to send and the strings it was derived from.
public struct SigV4SignedRequest: Sendable, Hashable {
    /// The input request plus `X-Amz-Date`, `X-Amz-Security-Token` and `Authorization`.
    public let request: SigV4Request
    public let canonicalRequest: String
    public let stringToSign: String
    /// Lowercase hex HMAC-SHA256.
    public let signature: String
    /// The `Authorization` header value.
    public let authorization: String
}
