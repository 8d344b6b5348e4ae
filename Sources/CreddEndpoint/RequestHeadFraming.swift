/// Finds where request heads end in a connection's raw bytes, to cut them out for the parser and to
/// bound their size and time them before anything is buffered.
///
/// A head ends at its first empty line (CRLF CRLF, or bare LF LF, which the parser also accepts).
/// This is exact because the endpoint refuses every request with a body: after a head, the next
/// byte starts the next request. Empty lines before a request line are skipped, as RFC 9112 allows.
/// A line of nothing but CRs counts as empty here, so that such a head ends too; the parser then
/// refuses its stray CR. A byte that no head may hold where it stands (a control byte, or a
/// non-ASCII byte outside a field value) ends the head at once: the parser refuses it without
/// waiting for the rest, as an incremental parser would.
struct RequestHeadFraming: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        /// Between requests: the idle timeout applies.
        case awaitingRequest
        /// Part of a head has arrived: the request timeout applies.
        case readingHead
    }

    enum Outcome: Sendable, Hashable {
        /// A head ended after the first `length` of the bytes scanned (its final line feed, or the
        /// byte that cut it short, included); the bytes after it have not been scanned yet.
        case headEnded(length: Int)
        /// Every byte was scanned and no head ended; `phase` is where the connection stands.
        case needsMore(phase: Phase)
        /// A head grew beyond the limit: answer 431 and close.
        case headTooLarge
    }

    let maxHeadBytes: Int
    private(set) var phase = Phase.awaitingRequest
    private var headBytes = 0
    private var lineHasContent = false
    /// Lines of the current head that have ended; the first is the request line.
    private var headLines = 0
    /// Past the colon of a field line, where non-ASCII bytes are allowed.
    private var inFieldValue = false

    init(maxHeadBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Scans bytes up to the end of the next head; call again with the rest.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "\n"):
                if lineHasContent {
                    lineHasContent = false
                    inFieldValue = false
                    headLines += 1
                } else if phase == .readingHead {
                    endHead()
                    return .headEnded(length: offset + 1)
                }
            case UInt8(ascii: "\r"):
                break
            default:
                guard Self.mayHold(byte, inFieldValue: inFieldValue) else {
                    endHead()
                    return .headEnded(length: offset + 1)
                }
                if byte == UInt8(ascii: ":") && headLines > 0 { inFieldValue = true }
                lineHasContent = true
                phase = .readingHead
            }
            if phase == .readingHead {
                headBytes += 1
                if headBytes > maxHeadBytes { return .headTooLarge }
            }
        }
        return .needsMore(phase: phase)
    }

    private mutating func endHead() {
        phase = .awaitingRequest
        headBytes = 0
        lineHasContent = false
        headLines = 0
        inFieldValue = false
    }

    /// Whether a head may hold `byte` (not CR or LF) where it stands: what a field value may hold,
    /// and outside a value only ASCII.
    private static func mayHold(_ byte: UInt8, inFieldValue: Bool) -> Bool {
        RequestHeadParser.isFieldValueByte(byte) && (inFieldValue || byte < 0x80)
    }
}
