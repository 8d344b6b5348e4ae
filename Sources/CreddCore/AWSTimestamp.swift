import FoundationEssentials

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

    /// Days from 1970-01-01 to the Gregorian date; the inverse of `civilDate`.
    private static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let marchYear = month <= 2 ? year - 1 : year
        let cycle = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfCycle = marchYear - cycle * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfCycle = yearOfCycle * 365 + yearOfCycle / 4 - yearOfCycle / 100 + dayOfYear
        return cycle * 146_097 + dayOfCycle - 719_468
    }

    /// Parses ISO 8601 / RFC 3339 date-times as STS and `credential_process` emit them:
    /// `2026-11-22T22:50:26Z`, with optional fractional seconds, or with a numeric offset.
    public static func parse(_ text: String) -> Date? {
        // Parsed by hand: Foundation's ISO 8601 formatters need ICU, several MiB of idle RSS.
        var scanner = TimestampScanner(text.trimmingWhitespace())
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2)
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            var scale = 0.1
            var any = false
            while let digit = scanner.digits(1) {
                fraction += Double(digit) * scale
                scale /= 10
                any = true
            }
            guard any else { return nil }
        }
        let offsetSeconds: Int
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else {
            let sign: Int
            if scanner.skip("+") { sign = 1 } else if scanner.skip("-") { sign = -1 } else { return nil }
            guard let offsetHours = scanner.digits(2) else { return nil }
            _ = scanner.skip(":")
            guard let offsetMinutes = scanner.digits(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard scanner.atEnd,
            let seconds = secondsSince1970(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return Date(timeIntervalSince1970: Double(seconds - offsetSeconds) + fraction)
    }

    /// The HTTP `Date` header format (RFC 7231 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`),
    /// used for clock-skew correction.
    public static func parseHTTPDate(_ text: String) -> Date? {
        var scanner = TimestampScanner(text.trimmingWhitespace())
        guard scanner.letters(3) != nil, scanner.skip(","), scanner.skip(" "), let day = scanner.digits(2),
            scanner.skip(" "), let monthName = scanner.letters(3),
            let month = monthNames.firstIndex(of: monthName).map({ $0 + 1 }),
            scanner.skip(" "), let year = scanner.digits(4), scanner.skip(" "),
            let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2), scanner.skip(" "),
            let zone = scanner.letters(3), zone == "GMT" || zone == "UTC", scanner.atEnd,
            let seconds = secondsSince1970(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since the epoch of a UTC date-time, or nil when a field is out of range.
    private static func secondsSince1970(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        guard (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthLengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthLengths[month - 1]).contains(day) else { return nil }
        return daysSince1970(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }
}

/// Reads fixed-width fields off the front of a timestamp.
private struct TimestampScanner {
    private var rest: Substring.UTF8View

    init(_ text: String) { rest = text.utf8[...] }

    var atEnd: Bool { rest.isEmpty }

    /// Consumes `literal` if the text continues with it.
    mutating func skip(_ literal: Unicode.Scalar) -> Bool {
        guard rest.first == UInt8(ascii: literal) else { return false }
        rest = rest.dropFirst()
        return true
    }

    /// Consumes exactly `count` ASCII digits.
    mutating func digits(_ count: Int) -> Int? {
        let field = rest.prefix(count)
        guard field.count == count, field.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        rest = rest.dropFirst(count)
        return field.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Consumes exactly `count` ASCII letters.
    mutating func letters(_ count: Int) -> String? {
        let field = rest.prefix(count)
        let isLetter: (UInt8) -> Bool = { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0 & 0xDF) }
        guard field.count == count, field.allSatisfy(isLetter) else { return nil }
        rest = rest.dropFirst(count)
        return String(decoding: field, as: UTF8.self)
    }
}
