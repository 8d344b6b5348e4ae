/// The one way credd's config writes a duration (`duration_seconds`, `rotate_after`): a whole
/// number with an optional unit, `90d` (days), `12h` (hours), `30m` (minutes), `45s` or a plain
/// `3600` (seconds). Zero, signs, fractions and spaces inside are refused.
public enum ConfigDuration {
    /// What the parser accepts, for error messages.
    public static let syntax = "a whole number of days (90d), hours (12h), minutes (30m) or seconds (3600)"

    /// The positive number of seconds `text` spells, or `nil`.
    public static func seconds(parsing text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        guard let last = trimmed.last else { return nil }
        let unit: Int
        let digits: Substring
        switch last {
        case "d", "D":
            unit = 86_400
            digits = trimmed.dropLast()
        case "h", "H":
            unit = 3_600
            digits = trimmed.dropLast()
        case "m", "M":
            unit = 60
            digits = trimmed.dropLast()
        case "s", "S":
            unit = 1
            digits = trimmed.dropLast()
        default:
            unit = 1
            digits = Substring(trimmed)
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, total > 0 else { return nil }
        return total
    }

    /// `seconds` in the largest whole unit: `90d`, `36h`, `90m`, `45s`.
    public static func describe(seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
