import Foundation
import Synchronization

/// The timestamp formats AWS and the SDKs exchange, converted once at the edges.
public enum AWSTimestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ`, UTC, no fractional seconds: what IMDS serves and botocore's
    /// strict parser accepts, and RFC 3339 for everything else credd prints.
    public static func format(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0
        )
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

    private static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
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
