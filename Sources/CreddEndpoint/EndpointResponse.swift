import NIOHTTP1

/// What the endpoint answers to one request, plus secret-free facts for the log line.
struct EndpointResponse: Sendable {
    /// Which API a request addressed, for logs and metrics.
    enum Route: String, Sendable {
        case imdsToken = "imds.token"
        case imdsRoleList = "imds.role-list"
        case imdsCredentials = "imds.credentials"
        case imdsOther = "imds.other"
        case containerCredentials = "container.credentials"
        case other
    }

    var status: HTTPResponseStatus
    var contentType: String
    var body: String
    /// Headers beyond Content-Type, Content-Length and Connection.
    var extraHeaders: [(name: String, value: String)] = []
    /// Close after answering: refusals from clients that should not be here, and requests whose framing we cannot trust.
    var closesConnection = false
    var route: Route = .other
    /// The profile the request named, when it names a managed one.
    var profile: String?
    /// Why the request was refused, in a few words; `nil` when served.
    var refusal: String?

    /// An error answer in the `{"Code": …, "Message": …}` shape the Go and JS SDKs read.
    static func error(
        _ status: HTTPResponseStatus,
        code: String,
        message: String,
        refusal: String? = nil,
        closesConnection: Bool = false
    ) -> EndpointResponse {
        EndpointResponse(
            status: status,
            contentType: "application/json",
            body: JSONText.object([(key: "Code", value: code), (key: "Message", value: message)]),
            closesConnection: closesConnection,
            refusal: refusal
        )
    }
}
