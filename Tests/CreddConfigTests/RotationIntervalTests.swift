import CreddConfig
import Testing

@Suite struct RotationIntervalTests {
    @Test(arguments: [
        ("90d", 7_776_000, "90d"), ("12h", 43_200, "12h"), ("30m", 1_800, "30m"), ("3600", 3_600, "1h"),
        ("45s", 45, "45s"), (" 7D ", 604_800, "7d"), ("36h", 129_600, "36h"), ("1", 1, "1s"),
    ])
    func parses(text: String, seconds: Int, normalized: String) throws {
        let interval = try #require(RotationInterval(parsing: text))
        #expect(interval.seconds == seconds)
        #expect(interval.timeInterval == Double(seconds))
        #expect(interval.description == normalized)
    }

    @Test(arguments: [
        "", "d", "0d", "0", "-5d", "+5d", "1.5d", "90 d", "90days", "1w", "ninety", "99999999999999999999d", "9223372036854775807d", "٣d",
    ])
    func refuses(text: String) {
        #expect(RotationInterval(parsing: text) == nil)
    }

    @Test func orders() throws {
        #expect(try #require(RotationInterval(parsing: "1d")) > (try #require(RotationInterval(parsing: "23h"))))
    }
}
