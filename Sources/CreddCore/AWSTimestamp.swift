import Foundation

/// The timestamp formats AWS and the SDKs exchange, converted once at the edges.
public enum AWSTimestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractional seconds: what IMDS serves and botocore's
    /// strict parser accepts, and RFC 3339 for everything else credd prints.
    public static func format(_ date: Date) -> String {
        // By hand, not `String(format:)` or `Calendar`: the endpoint formats on every renewal and
        // the log on every line, and Foundation's formatting costs microseconds and locks.
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (dayNumber, daySecond) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        let (year, month, day) = civilDate(daysSinceEpoch: dayNumber)
        var text = ""
        text.reserveCapacity(20)
        appendDigits(year, width: 4, to: &text)
        text.append("-")
        appendDigits(month, width: 2, to: &text)
        text.append("-")
        appendDigits(day, width: 2, to: &text)
        text.append("T")
        appendDigits(daySecond / 3600, width: 2, to: &text)
        text.append(":")
        appendDigits(daySecond % 3600 / 60, width: 2, to: &text)
        text.append(":")
        appendDigits(daySecond % 60, width: 2, to: &text)
        text.append("Z")
        return text
    }

    /// The proleptic Gregorian year, month and day of a day count from 1970-01-01, computed in
    /// 400-year eras (146,097 days each) so that leap years need no table.
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468  // days from 0000-03-01, when leap days come last
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `value` in decimal, zero-padded to `width` digits (negative years keep their sign).
    private static func appendDigits(_ value: Int64, width: Int, to text: inout String) {
        if value < 0 { text.append("-") }
        let digits = String(value.magnitude)
        if digits.utf8.count < width { text.append(String(repeating: "0", count: width - digits.utf8.count)) }
        text.append(digits)
    }

    /// Parses ISO 8601 / RFC 3339 date-times as STS and `credential_process` emit them:
    /// `2026-11-22T22:50:26Z`, with optional fractional seconds, or with a numeric offset.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for formatter in parsers {
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// The HTTP `Date` header format (RFC 7231 IMF-fixdate), used for clock-skew correction.
    public static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }

    private static var parsers: [ISO8601DateFormatter] {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return [plain, fractional]
    }
}
