import Glibc

/// A file descriptor shared by an object and the thread that blocks reading it, closed when
/// the last of them lets go: neither can then touch a number the process has reused.
public final class SharedDescriptor: Sendable {
    public let value: Int32

    /// Takes ownership of `value`.
    public init(_ value: Int32) {
        self.value = value
    }

    deinit {
        close(value)
    }
}
