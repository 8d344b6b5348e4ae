import Foundation
import Synchronization

/// The timestamp formats AWS and the SDKs exchange, converted once at the edges.
public enum AWSTimestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractional seconds: what IMDS serves and botocore's
    /// strict parser accepts, and RFC 3339 for everything else credd prints.
    public static func format(_ date: Date) -> String {
        // Plain arithmetic: a calendar and `String(format:)` cost more than everything else a
        // 1,000-section credentials-file rewrite does with each timestamp. UTC has no
        // offsets or leap seconds to look up; RFC 3339 dates are proleptic Gregorian.
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds + 1) / 86_400 - 1
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSince1970: days)
        var text: [UInt8] = []
        text.reserveCapacity(20)
        appendPadded(year, width: 4, then: "-", to: &text)
        appendPadded(month, width: 2, then: "-", to: &text)
        appendPadded(day, width: 2, then: "T", to: &text)
        appendPadded(secondOfDay / 3600, width: 2, then: ":", to: &text)
        appendPadded(secondOfDay / 60 % 60, width: 2, then: ":", to: &text)
        appendPadded(secondOfDay % 60, width: 2, then: "Z", to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `%0<width>d` followed by `separator`.
    private static func appendPadded(_ value: Int, width: Int, then separator: Unicode.Scalar, to text: inout [UInt8]) {
        if value < 0 { text.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt = 1
        var digits = 1
        while magnitude / divisor >= 10 {
            divisor *= 10
            digits += 1
        }
        text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, width - digits)))
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        }
        text.append(UInt8(ascii: separator))
    }

    /// Year, month and day of the Gregorian date `days` after 1970-01-01. Counts in 400-year
    /// cycles of 146,097 days, with years starting on 1 March so that the leap day ends them.
    private static func civilDate(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let sinceMarch0000 = days + 719_468
        let cycle = (sinceMarch0000 >= 0 ? sinceMarch0000 : sinceMarch0000 - 146_096) / 146_097
        let dayOfCycle = sinceMarch0000 - cycle * 146_097
        let yearOfCycle = (dayOfCycle - dayOfCycle / 1460 + dayOfCycle / 36_524 - dayOfCycle / 146_096) / 365
        let dayOfYear = dayOfCycle - (365 * yearOfCycle + yearOfCycle / 4 - yearOfCycle / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfCycle + cycle * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses ISO 8601 / RFC 3339 date-times as STS and `credential_process` emit them:
    /// `2026-11-22T22:50:26Z`, with optional fractional seconds, or with a numeric offset.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return parsers.withLock { parsers in
            for formatter in parsers {
                if let date = formatter.date(from: trimmed) { return date }
            }
            return nil
        }
    }

    /// The HTTP `Date` header format (RFC 7231 IMF-fixdate), used for clock-skew correction.
    public static func parseHTTPDate(_ text: String) -> Date? {
        httpDateParser.date(from: text.trimmingCharacters(in: .whitespaces))
    }

    // Formatters are built once: creating one (ICU set-up) cost more than the renewal's
    // signing. DateFormatter locks internally; ISO8601DateFormatter does not, hence the Mutex.
    private static let httpDateParser: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter
    }()

    private static let parsers = Mutex({ () -> [ISO8601DateFormatter] in
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return [plain, fractional]
    }())
}
