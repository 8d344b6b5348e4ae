import Glibc

/// A `read(2)` that failed with `errno`.
public struct ReadFailure: Error, Equatable, Sendable {
    public let errno: Int32
}

/// Reads `descriptor` until end of file, retrying reads interrupted by a signal. Reads go by
/// chunks until EOF, not by `stat`'s size: procfs files report size 0.
public func readToEnd(_ descriptor: CInt) -> Result<[UInt8], ReadFailure> {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count == 0 { return .success(bytes) }
        if count < 0 {
            if errno == EINTR { continue }
            return .failure(ReadFailure(errno: errno))
        }
        bytes.append(contentsOf: chunk[0..<count])
    }
}
