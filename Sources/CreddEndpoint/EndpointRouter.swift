import CreddCore
import FoundationEssentials
import NIOHTTP1

/// The endpoint's request handling, free of I/O: a request head in, a response out. The server
/// and the fuzz tests both drive it.
struct EndpointRouter: Sendable {
    static let tokenPath = "/latest/api/token"
    static let roleListPath = "/latest/meta-data/iam/security-credentials/"
    /// EC2's newer listing, whose documents carry `AccountId`; newer SDKs try it first.
    static let extendedRoleListPath = "/latest/meta-data/iam/security-credentials-extended/"
    /// Both listings serve the same documents: credd's always carry AccountId when it is known.
    static let roleListPaths = [roleListPath, extendedRoleListPath]
    static let containerPrefix = "/v1/credentials/"
    static let tokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
    static let tokenHeader = "X-aws-ec2-metadata-token"
    static let maxTokenTTLSeconds = 21600

    let imdsProfile: String?
    let containerToken: Secret
    let tokens: IMDSTokenStore
    let source: any EndpointCredentialSource
    let wallClock: any WallClock

    /// The answer to one request of the user the endpoint serves (other users' connections are
    /// closed before they are read).
    func respond(to head: HTTPRequestHead) -> EndpointResponse {
        if let refusal = refusal(of: head) { return refusal }
        guard head.uri.hasPrefix("/") else {
            return .error(.badRequest, code: "BadRequest", message: "the request target must be a path", refusal: "target", closesConnection: true)
        }
        // On the bytes: the target is ASCII as HTTP sends it, and Character iteration costs per request.
        let end = head.uri.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? head.uri.endIndex
        let path = Self.collapsingRepeatedSlashes(head.uri[..<end])
        switch head.method {
        case .PUT:
            return issueToken(path: path, headers: head.headers)
        case .GET, .HEAD:
            if path.hasPrefix("/latest/") { return imds(path: path, headers: head.headers) }
            if path.hasPrefix(Self.containerPrefix) { return container(path: path, headers: head.headers) }
            return .error(.notFound, code: "NotFound", message: "no such resource; credd serves /latest/… (IMDSv2) and /v1/credentials/PROFILE")
        default:
            var response = EndpointResponse.error(
                .methodNotAllowed, code: "MethodNotAllowed", message: "only GET, HEAD and PUT are served", refusal: "method")
            response.extraHeaders = [(name: "Allow", value: "GET, HEAD, PUT")]
            return response
        }
    }

    /// `path` with each run of slashes made one: some clients join an endpoint that ends in `/`
    /// with a path that starts with one (`PUT //latest/api/token`).
    static func collapsingRepeatedSlashes(_ path: Substring) -> String {
        let slash = UInt8(ascii: "/")
        guard zip(path.utf8, path.utf8.dropFirst()).contains(where: { $0 == slash && $1 == slash }) else { return String(path) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        for byte in path.utf8 where !(byte == slash && bytes.last == slash) {
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Requests refused whatever they ask for: foreign hosts, browsers, proxies, bodies.
    private func refusal(of head: HTTPRequestHead) -> EndpointResponse? {
        let hosts = head.headers["Host"]
        guard hosts.count == 1, let host = hosts.first else {
            return .error(
                .badRequest, code: "BadRequest", message: "the request needs exactly one Host header", refusal: "host-count", closesConnection: true)
        }
        guard RequestPolicy.isAllowedHost(host) else {
            return .error(
                .forbidden, code: "Forbidden", message: "Host must be 127.0.0.1, [::1], localhost or 169.254.169.254", refusal: "host",
                closesConnection: true)
        }
        if head.method == .OPTIONS || RequestPolicy.looksLikeBrowserRequest(origin: head.headers["Origin"], fetchSite: head.headers["Sec-Fetch-Site"])
        {
            return .error(.forbidden, code: "Forbidden", message: "requests from web pages are refused", refusal: "browser", closesConnection: true)
        }
        if let relayed = head.headers.first(where: { RequestPolicy.isRelayHeader($0.name) }) {
            return .error(
                .forbidden, code: "Forbidden",
                message:
                    "requests relayed by a proxy (\(relayed.name.prefix(32)) header) are refused; exclude 127.0.0.1 and localhost from your proxy with NO_PROXY",
                refusal: "forwarded", closesConnection: true)
        }
        if Self.declaresBody(head) {
            return .error(
                .payloadTooLarge, code: "PayloadTooLarge", message: "requests to credd carry no body", refusal: "body", closesConnection: true)
        }
        return nil
    }

    private func issueToken(path: String, headers: HTTPHeaders) -> EndpointResponse {
        guard path == Self.tokenPath else {
            // What EC2 answers to a PUT elsewhere, e.g. a version-specific token path.
            var response = EndpointResponse.error(
                .forbidden, code: "Forbidden", message: "tokens are issued only at PUT \(Self.tokenPath)", refusal: "put-path")
            response.route = .imdsToken
            return response
        }
        let values = headers[Self.tokenTTLHeader]
        guard values.count == 1, let ttl = Self.parseTTL(values[0]) else {
            var response = EndpointResponse.error(
                .badRequest, code: "BadRequest",
                message: "\(Self.tokenTTLHeader) must be a whole number of seconds from 1 to \(Self.maxTokenTTLSeconds)",
                refusal: "token-ttl"
            )
            response.route = .imdsToken
            return response
        }
        let token = tokens.issue(ttlSeconds: ttl)
        return EndpointResponse(
            status: .ok,
            contentType: "text/plain",
            body: token.revealed,
            extraHeaders: [(name: Self.tokenTTLHeader, value: String(ttl))] + Self.noStore,
            route: .imdsToken
        )
    }

    static func parseTTL(_ text: String) -> Int? {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let ttl = Int(text), (1...maxTokenTTLSeconds).contains(ttl)
        else { return nil }
        return ttl
    }

    private func imds(path: String, headers: HTTPHeaders) -> EndpointResponse {
        let presented = headers[Self.tokenHeader]
        guard presented.count == 1, tokens.isValid(presented[0]) else {
            var response = EndpointResponse.error(
                .unauthorized, code: "Unauthorized",
                message: "missing, invalid or expired IMDSv2 token; get a new one with PUT \(Self.tokenPath)",
                refusal: "imds-token"
            )
            response.route = .imdsOther
            return response
        }
        guard let listing = Self.roleListPaths.first(where: { path.hasPrefix($0) || path + "/" == $0 }) else {
            var response = EndpointResponse.error(
                .notFound, code: "NotFound",
                message: "no such metadata path; credd serves only iam/security-credentials/ and iam/security-credentials-extended/")
            response.route = .imdsOther
            return response
        }
        if path.utf8.count <= listing.utf8.count {
            guard let imdsProfile else {
                var response = EndpointResponse.error(.notFound, code: "NotFound", message: "no imds_profile is configured in the [credd] section")
                response.route = .imdsRoleList
                return response
            }
            // The bare name without a newline: botocore uses the body verbatim in the next URL.
            return EndpointResponse(status: .ok, contentType: "text/plain", body: imdsProfile, route: .imdsRoleList)
        }
        guard let profile = Self.profileName(in: path.dropFirst(listing.count)) else {
            var response = EndpointResponse.error(.notFound, code: "NotFound", message: "no such metadata path; the path must be \(listing)NAME")
            response.route = .imdsOther
            return response
        }
        return credentials(for: profile, route: .imdsCredentials)
    }

    private func container(path: String, headers: HTTPHeaders) -> EndpointResponse {
        let presented = headers["Authorization"]
        guard presented.count == 1, RandomToken.constantTimeEquals(presented[0], containerToken.revealed) else {
            var response = EndpointResponse.error(
                .unauthorized, code: "Unauthorized",
                message:
                    "missing or wrong Authorization token; use the variables `credd env` prints (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN)",
                refusal: "container-token"
            )
            response.route = .containerCredentials
            return response
        }
        guard let profile = Self.profileName(in: path.dropFirst(Self.containerPrefix.count)) else {
            var response = EndpointResponse.error(.notFound, code: "NotFound", message: "the path must be /v1/credentials/PROFILE")
            response.route = .containerCredentials
            return response
        }
        return credentials(for: profile, route: .containerCredentials)
    }

    /// The percent-decoded profile name in a path's last segment; `nil` for an empty or nested one.
    static func profileName(in segment: Substring) -> String? {
        // Bytes, not Foundation's string search or Characters; and most names need no decoding.
        guard !segment.isEmpty, !segment.utf8.contains(UInt8(ascii: "/")) else { return nil }
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return String(segment) }
        guard let name = percentDecoded(segment), !name.isEmpty, !name.utf8.contains(UInt8(ascii: "/")) else { return nil }
        return name
    }

    /// `%XX` escapes decoded; `nil` for a malformed escape or bytes that are not UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = rest.popFirst().flatMap(hexValue), let low = rest.popFirst().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func credentials(for profile: String, route: EndpointResponse.Route) -> EndpointResponse {
        var response: EndpointResponse
        switch source.lookup(profile: profile) {
        case .unknown:
            response = .error(.notFound, code: "NotFound", message: "credd manages no profile named \(profile); see `credd status`")
        case .unavailable(let reason):
            response = Self.unavailable(reason)
        case .available(let published):
            // Checked per request: credentials are published once but may outlive their expiry.
            let now = wallClock.now()
            if let responses = published.servableResponses(at: now) {
                response = route == .imdsCredentials ? responses.imds : responses.container
            } else if let expiration = published.expiration, expiration <= now {
                response = Self.unavailable(
                    "the credentials of profile \(profile) expired at \(AWSTimestamp.format(expiration)); see `credd status \(profile)`")
            } else {
                response = Self.unavailable("profile \(profile) has no complete temporary credentials to serve; see `credd status \(profile)`")
            }
        }
        response.route = route
        response.profile = profile
        return response
    }

    static let noStore = [(name: "Cache-Control", value: "no-store")]

    /// 503: every SDK retries it a few times and then fails the credential fetch with this status,
    /// rather than treating it as a permanent client error.
    private static func unavailable(_ reason: String) -> EndpointResponse {
        var response = EndpointResponse.error(.serviceUnavailable, code: "CredentialsUnavailable", message: reason, refusal: "unavailable")
        response.extraHeaders = [(name: "Retry-After", value: "1")]
        return response
    }
}

extension EndpointRouter {
    /// Whether a request announces a body; such requests are refused (413) without reading it.
    static func declaresBody(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "Transfer-Encoding") || head.headers["Content-Length"].contains { $0 != "0" }
    }
}
