import CreddCore
import FoundationEssentials

extension ProfileStatus {
    /// The one-line summary systemd shows as `STATUS=`, e.g.
    /// `3 fresh, 1 needs MFA; next refresh 14:05`. Times are shown in the time zone whose offset
    /// from UTC at a date is `secondsFromGMT(date)`, with the date when the next refresh is not on
    /// the same day as `now`.
    public static func summary(of statuses: [ProfileStatus], now: Date, secondsFromGMT: (Date) -> Int) -> String {
        guard !statuses.isEmpty else { return "no profiles" }
        let counts = ProfileState.allCases.compactMap { state -> String? in
            let count = statuses.filter { $0.state == state }.count
            return count == 0 ? nil : "\(count) \(summaryLabel(state))"
        }
        let text = counts.joined(separator: ", ")
        guard let next = statuses.compactMap(\.nextRefresh).min() else { return text }
        return "\(text); next refresh \(format(next, now: now, secondsFromGMT: secondsFromGMT))"
    }

    private static func summaryLabel(_ state: ProfileState) -> String {
        switch state {
        case .pending: "pending"
        case .fresh: "fresh"
        case .refreshing: "refreshing"
        case .retrying: "retrying"
        case .needsMFA: "needs MFA"
        case .expired: "expired"
        case .error: "failed"
        }
    }

    private static func format(_ date: Date, now: Date, secondsFromGMT: (Date) -> Int) -> String {
        // An offset and RFC 3339 text rather than Foundation's Calendar: its time zones need ICU.
        func local(_ date: Date) -> String {
            AWSTimestamp.format(date.addingTimeInterval(Double(secondsFromGMT(date))))
        }
        let (dateTime, nowText) = (local(date), local(now))
        let time = String(dateTime.dropFirst(11).prefix(5))
        guard dateTime.prefix(10) != nowText.prefix(10) else { return time }
        return dateTime.prefix(10) + " " + time
    }
}
