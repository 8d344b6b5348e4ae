/// The timings of one scenario and their summary row.
struct Measurement {
    let scenario: WriterBenchmark.Scenario
    let sections: Int
    let updated: Int
    let timings: [Duration]
    let fileBytes: Int

    /// Nearest-rank percentile of the sorted timings, in milliseconds.
    func percentile(_ fraction: Double) -> Double {
        let sorted = timings.sorted()
        guard let last = sorted.indices.last else { return 0 }
        let rank = min(last, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
        return Self.milliseconds(sorted[rank])
    }

    var row: String {
        let columns: [String] = [
            scenario.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0),
            pad(sections, 9), pad(updated, 8), pad(timings.count, 5),
            format(percentile(0.5), 10), format(percentile(0.95), 7),
            format(percentile(0), 7), format(percentile(1), 7), pad(fileBytes, 11),
        ]
        return columns.joined(separator: " ")
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private func format(_ value: Double, _ width: Int) -> String {
        let text = String(format: "%.2f", value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
