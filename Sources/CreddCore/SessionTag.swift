/// An STS session tag: `Key=Value`, shown as such (tags are not secret).
public struct SessionTag: Sendable, Hashable, CustomStringConvertible {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public var description: String { "\(key)=\(value)" }
}
