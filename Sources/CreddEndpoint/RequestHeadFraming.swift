/// Tracks where request heads begin and end in a connection's raw bytes, to bound their size and
/// time them before the HTTP parser buffers anything.
///
/// A head ends at its first empty line (CRLF CRLF, or bare LF LF, which the parser also accepts).
/// This is exact because the endpoint refuses every request with a body: after a head, the next
/// byte starts the next request. Empty lines before a request line are skipped, as RFC 9112 allows.
struct RequestHeadFraming: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        /// Between requests: the idle timeout applies.
        case awaitingRequest
        /// Part of a head has arrived: the request timeout applies.
        case readingHead
    }

    enum Outcome: Sendable, Hashable {
        /// Bytes accepted; `phase` is where the connection stands after them.
        case accepted(phase: Phase, completedHeads: Int)
        /// A head grew beyond the limit: answer 431 and close.
        case headTooLarge
    }

    let maxHeadBytes: Int
    private(set) var phase = Phase.awaitingRequest
    private var headBytes = 0
    private var lineHasContent = false

    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
    }

    mutating func receive(_ bytes: some Sequence<UInt8>) -> Outcome {
        var completedHeads = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if lineHasContent {
                    lineHasContent = false
                } else if phase == .readingHead {
                    completedHeads += 1
                    phase = .awaitingRequest
                    headBytes = 0
                    continue
                }
            case UInt8(ascii: "\r"):
                break
            default:
                lineHasContent = true
                phase = .readingHead
            }
            if phase == .readingHead {
                headBytes += 1
                if headBytes > maxHeadBytes { return .headTooLarge }
            }
        }
        return .accepted(phase: phase, completedHeads: completedHeads)
    }
}
