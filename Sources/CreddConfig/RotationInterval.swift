import FoundationEssentials

/// `rotate_after`: how old a key may get before scheduled rotation replaces it.
///
/// Written as every duration in the config is (`ConfigDuration`): `90d`, `12h`, `30m`, `45s`
/// or a plain `3600`.
public struct RotationInterval: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What the parser accepts, for error messages.
    public static let syntax = ConfigDuration.syntax

    public let seconds: Int

    public init?(seconds: Int) {
        guard seconds > 0 else { return nil }
        self.seconds = seconds
    }

    /// Parses `90d`, `12h`, `30m`, `45s` or `3600` (`ConfigDuration`); `nil` for anything else.
    public init?(parsing text: String) {
        guard let seconds = ConfigDuration.seconds(parsing: text) else { return nil }
        self.init(seconds: seconds)
    }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    /// The largest whole unit: `90d`, `36h`, `90m`, `45s`.
    public var description: String { ConfigDuration.describe(seconds: seconds) }

    public static func < (lhs: RotationInterval, rhs: RotationInterval) -> Bool {
        lhs.seconds < rhs.seconds
    }
}
