import CreddCore
import CreddTestSupport
import Foundation
import Testing

/// `AWSTimestamp.format` writes every expiry marker; it does its own date arithmetic, so it is
/// checked against Foundation's Gregorian calendar.
@Suite("Expiry markers")
struct ExpiryMarkerTests {
    static func calendarFormat(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    @Test("edges: epoch, leap days, century years, end of day, fractions of a second", arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (-1.0, "1969-12-31T23:59:59Z"),
        (951_782_400.0, "2000-02-29T00:00:00Z"),
        (4_107_456_000.0, "2100-02-28T00:00:00Z"),
        (4_107_542_400.0, "2100-03-01T00:00:00Z"),
        (1_800_000_000.999, "2027-01-15T08:00:00Z"),
        (253_402_300_799.0, "9999-12-31T23:59:59Z"),
    ])
    func edges(seconds: Double, expected: String) {
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("random dates from 1900 to 2400 agree with the calendar")
    func randomDates() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_208_988_800...13_569_465_600, using: &generator)))
            #expect(AWSTimestamp.format(date) == Self.calendarFormat(date), "\(date.timeIntervalSince1970)")
        }
    }
}
