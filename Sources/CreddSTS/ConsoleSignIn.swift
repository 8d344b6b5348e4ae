import CreddCore
import CreddSigV4
import FoundationEssentials

/// AWS console sign-in through the federation endpoint, as AWS documents for a custom identity
/// broker: a role session's credentials are exchanged for a sign-in token (`getSigninToken`),
/// and a login URL carries the token to the console. Anyone holding that URL is signed in as
/// the role for 15 minutes, so the URL is a `Secret`, and the request URL (which holds the
/// session's keys) never reaches a log or an error message.
public struct ConsoleSignIn: Sendable, Hashable {
    /// The federation endpoint, e.g. `https://signin.aws.amazon.com/federation`.
    public let federationEndpoint: String
    /// Where the console opens after sign-in.
    public let destination: String

    /// The variable that replaces the federation endpoint (tests point it at a fake on loopback).
    public static let endpointVariable = "CREDD_FEDERATION_ENDPOINT"
    /// The `Issuer` the login URL names, as aws-vault names itself.
    static let issuer = "credd"

    public init(federationEndpoint: String, destination: String) {
        self.federationEndpoint = federationEndpoint
        self.destination = destination
    }

    /// The endpoints of the partition a role ARN names (`arn:aws-cn:…` signs in at
    /// signin.amazonaws.cn), the console opening in `region` when one is known;
    /// `$CREDD_FEDERATION_ENDPOINT` replaces the federation endpoint.
    public init(roleArn: String, region: String?, environment: [String: String]) {
        let partition = roleArn.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).dropFirst().first ?? "aws"
        let (signin, console): (String, String)
        switch partition {
        case "aws-cn": (signin, console) = ("signin.amazonaws.cn", "console.amazonaws.cn")
        case "aws-us-gov": (signin, console) = ("signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com")
        default: (signin, console) = ("signin.aws.amazon.com", "console.aws.amazon.com")
        }
        let override = environment[Self.endpointVariable].flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            federationEndpoint: override ?? "https://\(signin)/federation",
            destination: "https://\(console)/" + (region.map { "console/home?region=\(SigV4Encoding.percentEncode($0))" } ?? ""))
    }

    /// The `getSigninToken` request for `credentials`. Its URL holds the session's secret key
    /// and token: it is sent, never shown.
    public func tokenRequest(for credentials: AWSCredentials) throws(ConsoleSignInError) -> TransportRequest {
        struct Session: Encodable {
            var sessionId: String
            var sessionKey: String
            var sessionToken: String
        }
        guard let token = credentials.sessionToken,
            let json = try? JSONEncoder().encode(
                Session(sessionId: credentials.accessKeyId, sessionKey: credentials.secretAccessKey.revealed, sessionToken: token.revealed)),
            let url = URL(
                string: federationEndpoint + "?Action=getSigninToken&Session=" + SigV4Encoding.percentEncode(String(decoding: json, as: UTF8.self)))
        else {
            throw ConsoleSignInError(.invalidRequest, endpoint: federationEndpoint)
        }
        return TransportRequest(method: .get, url: url, headers: [.init(name: "Accept", value: "application/json")], body: [])
    }

    /// The sign-in token in the endpoint's answer (`{"SigninToken": "…"}`).
    public func signinToken(from response: TransportResponse) throws(ConsoleSignInError) -> Secret {
        guard response.status == 200 else {
            throw ConsoleSignInError(.refused(status: response.status), endpoint: federationEndpoint)
        }
        struct Answer: Decodable {
            var token: Secret
            enum CodingKeys: String, CodingKey { case token = "SigninToken" }
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), !answer.token.isEmpty else {
            throw ConsoleSignInError(.malformedResponse, endpoint: federationEndpoint)
        }
        return answer.token
    }

    /// The URL that signs the browser in with `token` and opens `destination`.
    public func loginURL(token: Secret) -> Secret {
        Secret(
            federationEndpoint + "?Action=login&Issuer=" + SigV4Encoding.percentEncode(Self.issuer) + "&Destination="
                + SigV4Encoding.percentEncode(destination) + "&SigninToken=" + SigV4Encoding.percentEncode(token.revealed))
    }

    /// Exchanges `credentials` for a sign-in token and returns the login URL.
    public func loginURL(for credentials: AWSCredentials, transport: any STSTransport) async throws(ConsoleSignInError) -> Secret {
        let request = try tokenRequest(for: credentials)
        let response: TransportResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw ConsoleSignInError(.transport(error.kind), endpoint: federationEndpoint)
        }
        return loginURL(token: try signinToken(from: response))
    }
}

/// Why no console sign-in URL was made. Never holds the request URL, the answer's body or a token.
public struct ConsoleSignInError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The credentials have no session token, or the endpoint is not a URL.
        case invalidRequest
        case transport(TransportError.Kind)
        /// The endpoint answered with this HTTP status instead of a token.
        case refused(status: Int)
        /// A 200 answer without a `SigninToken`.
        case malformedResponse
    }

    public let kind: Kind
    /// The federation endpoint asked (it holds no secret: the secrets are in the query).
    public let endpoint: String

    public init(_ kind: Kind, endpoint: String) {
        self.kind = kind
        self.endpoint = endpoint
    }

    public var description: String {
        switch kind {
        case .invalidRequest:
            return "cannot build a sign-in request for \(endpoint) (a session token is needed, and \(ConsoleSignIn.endpointVariable) must be a URL)"
        case .transport(.timedOut): return "the sign-in endpoint \(endpoint) did not answer in time"
        case .transport: return "cannot reach the sign-in endpoint \(endpoint)"
        case let .refused(status):
            return "the sign-in endpoint \(endpoint) refused the session (HTTP \(status)): it accepts only role sessions that have"
                + " not expired, from a role whose trust and permissions allow console sign-in"
        case .malformedResponse: return "the sign-in endpoint \(endpoint) answered without a sign-in token"
        }
    }
}
