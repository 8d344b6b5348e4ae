import FoundationEssentials

/// `rotate_after`: how old a key may get before scheduled rotation replaces it.
///
/// Written as a whole number with an optional unit: `90d` (days), `12h` (hours), `30m`
/// (minutes), `45s` or a plain `3600` (seconds). Zero, signs, fractions and spaces inside are
/// refused.
public struct RotationInterval: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What the parser accepts, for error messages.
    public static let syntax = "a whole number of days (90d), hours (12h), minutes (30m) or seconds (3600)"

    public let seconds: Int

    public init?(seconds: Int) {
        guard seconds > 0 else { return nil }
        self.seconds = seconds
    }

    /// Parses `90d`, `12h`, `30m`, `45s` or `3600`; `nil` for anything else.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        guard let last = trimmed.last else { return nil }
        let unit: Int
        let digits: Substring
        switch last {
        case "d", "D": unit = 86_400; digits = trimmed.dropLast()
        case "h", "H": unit = 3_600; digits = trimmed.dropLast()
        case "m", "M": unit = 60; digits = trimmed.dropLast()
        case "s", "S": unit = 1; digits = trimmed.dropLast()
        default: unit = 1; digits = Substring(trimmed)
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        self.init(seconds: total)
    }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }

    /// The largest whole unit: `90d`, `36h`, `90m`, `45s`.
    public var description: String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    public static func < (lhs: RotationInterval, rhs: RotationInterval) -> Bool {
        lhs.seconds < rhs.seconds
    }
}
