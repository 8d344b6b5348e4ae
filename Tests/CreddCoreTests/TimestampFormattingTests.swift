import CreddCore
import Foundation
import Testing

/// `AWSTimestamp.format`, which the endpoint puts in every credential document: whole seconds,
/// UTC, across leap days, century rules and the epoch.
struct TimestampFormattingTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (-1.0, "1969-12-31T23:59:59Z"),
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_709_251_199, "2024-02-29T23:59:59Z"),
        (1_800_000_000.9, "2027-01-15T08:00:00Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ])
    func formatsWholeSecondsInUTC(seconds: Double, expected: String) {
        #expect(AWSTimestamp.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func agreesWithFoundationsCalendarThroughAGregorianCycle() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // Every third day of 400 years from 1970, each at a different time of day.
        for day in stride(from: 0, to: 146_097, by: 3) {
            let date = Date(timeIntervalSince1970: Double(day * 86_400 + day * 7_919 % 86_400))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = [c.year, c.month, c.day, c.hour, c.minute, c.second].map { $0 ?? -1 }
            let text = AWSTimestamp.format(date)
            let fields = text.split { $0 == "-" || $0 == "T" || $0 == ":" || $0 == "Z" }.compactMap { Int($0) }
            try #require(fields == expected, "\(text)")
        }
    }
}
