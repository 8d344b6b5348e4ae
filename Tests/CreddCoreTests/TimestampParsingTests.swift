import CreddCore
import Foundation
import Testing

/// `AWSTimestamp.parse` and `parseHTTPDate`, hand-written so that credd needs no ICU: checked
/// against Foundation's formatters, which the tests may still use.
struct TimestampParsingTests {
    @Test(arguments: [
        ("2026-11-22T22:50:26Z", 1_795_387_826.0),
        ("  2026-11-22T22:50:26Z\t", 1_795_387_826),
        ("2026-11-22t22:50:26z", 1_795_387_826),
        ("2026-11-01T00:00:00.5Z", 1_793_491_200.5),
        ("2026-11-22T23:50:26.250+01:00", 1_795_387_826.25),
        ("2026-11-22T17:20:26-0530", 1_795_387_826),
        ("1969-12-31T23:59:59Z", -1),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
    ])
    func parsesRFC3339(text: String, seconds: Double) {
        #expect(AWSTimestamp.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "", "2026-11-22", "2026-11-22T22:50:26", "2026-11-22 22:50:26Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T22:60:00Z", "2026-11-22T22:50:60Z", "2026-11-22T22:50:26.Z",
        "2026-11-22T22:50:26+25:00", "2026-11-22T22:50:26+01", "2026-11-22T22:50:26Zjunk", "2026-1-22T22:50:26Z",
        "２０２６-11-22T22:50:26Z",
    ])
    func rejectsAnythingElse(text: String) {
        #expect(AWSTimestamp.parse(text) == nil)
    }

    @Test func agreesWithFoundationsISO8601FormatterThroughAGregorianCycle() throws {
        let formatter = ISO8601DateFormatter()
        // From 1600: ICU switches to the Julian calendar before 1582, RFC 3339 does not.
        for day in stride(from: -135_140, to: 146_097, by: 7) {
            let date = Date(timeIntervalSince1970: Double(day * 86_400 + day * 7_919 % 86_400))
            let text = formatter.string(from: date)
            try #require(AWSTimestamp.parse(text) == formatter.date(from: text), "\(text)")
        }
    }

    @Test func parsesIMFFixdate() {
        #expect(AWSTimestamp.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT")?.timeIntervalSince1970 == 784_111_777)
        #expect(AWSTimestamp.parseHTTPDate(" Sun, 22 Nov 2026 22:50:26 UTC ")?.timeIntervalSince1970 == 1_795_387_826)
    }

    @Test(arguments: [
        "", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT extra", "Sun, 6 Nov 1994 08:49:37 GMT",
    ])
    func rejectsOtherHTTPDates(text: String) {
        #expect(AWSTimestamp.parseHTTPDate(text) == nil)
    }
}

/// The stand-ins for `NSString`'s trimming and replacing.
struct StringEditingTests {
    @Test func trimsSpacesAndTabsAndOptionallyLineBreaks() {
        #expect(" \t a b \u{00A0}".trimmingWhitespace() == "a b")
        #expect("\n a \n".trimmingWhitespace() == "\n a \n")
        #expect("\r\n a \n\t".trimmingWhitespace(newlines: true) == "a")
        #expect(" \t ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace(newlines: true) == "")
        #expect("x y"[...].trimmingWhitespace() == "x y")
    }

    @Test func replacesScalarsEvenInsideGraphemeClusters() {
        #expect("a\r\nb".replacingEvery("\n", with: "\\n") == "a\r\\nb")
        #expect("e\u{301}".replacingEvery("e", with: "a") == "a\u{301}")
        #expect("a+b/c==".replacingEvery("=", with: "") == "a+b/c")
        #expect("abc".replacingEvery("x", with: "y") == "abc")
    }

    @Test func padsToAWidth() {
        #expect("ab".padding(to: 4) == "ab  ")
        #expect("abcde".padding(to: 4) == "abcde")
    }
}
