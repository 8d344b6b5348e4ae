import Foundation

extension ProfileStatus {
    /// The one-line summary systemd shows as `STATUS=`, e.g.
    /// `3 fresh, 1 needs MFA; next refresh 14:05`. Times are shown in `timeZone`, with the date
    /// when the next refresh is not on the same day as `now`.
    public static func summary(of statuses: [ProfileStatus], now: Date, timeZone: TimeZone) -> String {
        guard !statuses.isEmpty else { return "no profiles" }
        let counts = ProfileState.allCases.compactMap { state -> String? in
            let count = statuses.filter { $0.state == state }.count
            return count == 0 ? nil : "\(count) \(summaryLabel(state))"
        }
        let text = counts.joined(separator: ", ")
        guard let next = statuses.compactMap(\.nextRefresh).min() else { return text }
        return "\(text); next refresh \(format(next, now: now, timeZone: timeZone))"
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

    private static func format(_ date: Date, now: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let time = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        guard !calendar.isDate(date, inSameDayAs: now) else { return time }
        return String(format: "%04d-%02d-%02d ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0) + time
    }
}
