import CreddControl
import CreddCore
import CreddRefresh
import FoundationEssentials

/// Renders `credd status` for a person: one row per profile, times relative to now, the last
/// error on its own line under the row, then one line per profile that waits on the user with
/// the command to run; colour only when asked (a terminal). Clock times are in the time zone
/// whose offset from UTC at a date is `secondsFromGMT(date)`. Nothing is wider than `width`
/// columns, so a terminal never breaks a word: errors are cut short at a word (`credd status
/// PROFILE` and `--json` have the full text), other sentences wrap between words.
enum StatusTable {
    static let defaultWidth = 80

    /// The terminal's width as the shell exports it in `COLUMNS`, else 80.
    static var width: Int {
        ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).map { max(40, $0) } ?? defaultWidth
    }

    static func render(
        _ document: StatusDocument, now: Date, colour: Bool, width: Int = defaultWidth, secondsFromGMT: (Date) -> Int
    ) -> String {
        let header = ["PROFILE", "STATE", "EXPIRES", "NEXT REFRESH", "SOURCE"]
        let rows = document.profiles.map { profile in
            [
                profile.name,
                profile.state,
                relative(profile.expiration, now: now, past: "expired"),
                relative(profile.nextRefresh, now: now, past: "due"),
                profile.source,
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String], state: String?) -> String {
            // Only the last column (the source) can be cut: the others line up.
            let leading = widths.dropLast().reduce(0) { $0 + $1 + 2 }
            return cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? shortened(cell, to: width - leading) : cell.padding(to: widths[column])
                guard colour, column == 1, let state else { return padded }
                return paint(padded, state: state)
            }
            .joined(separator: "  ")
        }

        var out = ""
        if let endpointError = document.daemon.endpointError {
            out += wrapped("endpoint: \(endpointError)", width: width, continuation: "    ")
        }
        for problem in document.daemon.configErrors {
            out += wrapped("config: \(problem)", width: width, continuation: "    ")
        }
        // Only when it is not the usual: on a server or over SSH, say why nothing pops up.
        if let desktop = document.daemon.desktop, desktop != "notifications on" {
            out += "desktop: \(desktop)\n"
        }
        if document.profiles.isEmpty {
            return out + "no managed profiles in \(document.daemon.configFile)\n"
        }
        out += line(header, state: nil) + "\n"
        var cutShort = false
        for (profile, row) in zip(document.profiles, rows) {
            out += line(row, state: profile.state) + "\n"
            if let error = profile.error {
                let text = "    \(profile.state == "fresh" ? "last error" : "error"): \(error)"
                let short = shortened(text, to: width)
                cutShort = cutShort || short != text
                out += short + "\n"
            }
            if let rotation = profile.rotation {
                out += rotationLines(rotation, now: now).map { wrapped("    " + $0, width: width, continuation: "        ") }.joined()
            }
        }
        out += ssoSessionLines(document.ssoSessions, now: now).map { wrapped($0, width: width, continuation: "      ") }.joined()
        let actions = document.profiles.compactMap { actionLine($0, now: now, secondsFromGMT: secondsFromGMT) }
        if !actions.isEmpty { out += "\n" + actions.map { wrapped($0, width: width, continuation: "    ") }.joined() }
        if cutShort { out += "\n" + wrapped("`credd status PROFILE` shows a profile's whole error.", width: width, continuation: "") }
        return out
    }

    /// The IAM Identity Center sessions: the token's expiry, whether it refreshes by itself,
    /// and when a sign-in will be needed; nothing without SSO profiles.
    static func ssoSessionLines(_ sessions: [StatusDocument.SSOSession], now: Date) -> [String] {
        guard !sessions.isEmpty else { return [] }
        var lines = ["", "IAM Identity Center sessions:"]
        for session in sessions {
            var text = "  \(session.name)  \(session.state), token expires \(relative(session.tokenExpiration, now: now, past: "expired"))"
            text += session.canRefresh ? ", refreshes by itself" : ", cannot be refreshed"
            if session.registrationExpiration != nil {
                text += " (registration ends \(relative(session.registrationExpiration, now: now, past: "ended")))"
            }
            lines.append(text)
            if let error = session.error { lines.append("    error: \(error)") }
            if let action = session.action, !(session.error ?? "").contains(action.command) {
                lines.append("    sign in: run `\(action.command)`")
            }
        }
        return lines
    }

    /// `credd status PROFILE`: every field of one profile, one per line, the error and the
    /// action in full (wrapped between words at `width` columns).
    static func detail(
        _ profile: StatusDocument.Profile, now: Date, width: Int = defaultWidth, secondsFromGMT: (Date) -> Int
    ) -> String {
        /// `past: nil` is for a time that can only have passed: `5m ago`, never `in 0s`.
        func when(_ timestamp: String?, past: String?) -> String {
            guard let timestamp, let date = AWSTimestamp.parse(timestamp) else { return "-" }
            let relativeTime =
                past.map { relative(timestamp, now: now, past: $0) } ?? "\(compact(max(0, Int(now.timeIntervalSince(date).rounded())))) ago"
            return ProfileStatus.clockTime(date, now: now, secondsFromGMT: secondsFromGMT) + " (\(relativeTime))"
        }
        var fields: [(String, String)] = [
            ("profile", profile.name),
            ("state", profile.state),
            ("expires", when(profile.expiration, past: "expired")),
            ("next refresh", when(profile.nextRefresh, past: "due")),
            ("last refresh", when(profile.lastRefresh, past: nil)),
            ("source", profile.source),
            (profile.state == "fresh" ? "last error" : "error", profile.error ?? "-"),
            ("action", actionLine(profile, now: now, secondsFromGMT: secondsFromGMT) ?? "-"),
        ]
        if let rotation = profile.rotation {
            fields += rotationLines(rotation, now: now).map { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { return ("rotation", line) }
                return (String(parts[0]), parts[1].trimmingWhitespace())
            }
        }
        let labelWidth = (fields.map(\.0.count).max() ?? 0) + 2
        let continuation = String(repeating: " ", count: labelWidth)
        return fields.map { label, value in
            wrapped(value, width: width - labelWidth, continuation: "").split(separator: "\n").enumerated().map { index, line in
                (index == 0 ? (label + ":").padding(to: labelWidth) : continuation) + line + "\n"
            }
            .joined()
        }
        .joined()
    }

    /// `text` in at most `width` columns: whole words, then `…` when words were left out.
    static func shortened(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        let indent = String(text.prefix { $0 == " " })
        var kept = ""
        for word in text.dropFirst(indent.count).split(separator: " ") {
            let candidate = kept.isEmpty ? indent + word : kept + " " + word
            guard candidate.count + 2 <= width else { break }
            kept = candidate
        }
        // A first word longer than the line is cut after all: nothing else fits.
        if kept.isEmpty { return String(text.prefix(max(0, width - 1))) + "…" }
        return kept + " …"
    }

    /// `text` broken between words into lines of at most `width` columns (a single longer word
    /// keeps a line of its own), the lines after the first starting with `continuation`; each
    /// line ends with a newline.
    static func wrapped(_ text: String, width: Int, continuation: String) -> String {
        var lines: [String] = []
        var current: String?
        let indent = text.prefix { $0 == " " }
        // Empty "words" keep runs of spaces inside a line (`corp  fresh`) as they were.
        for word in text.dropFirst(indent.count).split(separator: " ", omittingEmptySubsequences: false) {
            guard let line = current else {
                current = String(indent + word)
                continue
            }
            if line.count + 1 + word.count > width {
                lines.append(line)
                current = continuation + word
            } else {
                current = line + " " + word
            }
        }
        lines.append(current ?? String(indent))
        return lines.map { $0 + "\n" }.joined()
    }

    /// `mfa needs an MFA code: run `credd login mfa` (its session ends 18:05, in 2 h 10 min)`,
    /// or `nil` when the profile needs nothing from the user.
    static func actionLine(_ profile: StatusDocument.Profile, now: Date, secondsFromGMT: (Date) -> Int) -> String? {
        guard let action = profile.action else { return nil }
        let reason = action.reason(for: profile.name)
        let separator = action.kind == ProfileAction.Kind.mfaCode.rawValue ? " " : ": "
        guard let deadline = action.deadline.flatMap(AWSTimestamp.parse), deadline > now else {
            return profile.name + separator + reason + " (no session in service)"
        }
        let clock = ProfileStatus.clockTime(deadline, now: now, secondsFromGMT: secondsFromGMT)
        let remaining = spoken(Int(deadline.timeIntervalSince(now).rounded()))
        return profile.name + separator + reason + " (its session ends \(clock), in \(remaining))"
    }

    /// "2 h 10 min", "45 min", "30 s", "3 d 4 h": for sentences, where the table is compact.
    static func spoken(_ seconds: Int) -> String {
        let (days, hours, minutes) = (seconds / 86_400, (seconds % 86_400) / 3600, (seconds % 3600) / 60)
        if days > 0 { return "\(days) d" + (hours > 0 ? " \(hours) h" : "") }
        if hours > 0 { return "\(hours) h" + (minutes > 0 ? " \(minutes) min" : "") }
        if minutes > 0 { return "\(minutes) min" }
        return "\(seconds) s"
    }

    /// `rotation: scheduled, key AKIA… 12d3h old, next in 77d20h (rotate_after 90d)` (`key AKIA… in
    /// the keyring …` for keys there), then the
    /// leftover keys and the last error on lines of their own.
    static func rotationLines(_ rotation: StatusDocument.Rotation, now: Date) -> [String] {
        if let reason = rotation.unavailableReason {
            return ["rotation: unavailable (rotate_after \(rotation.rotateAfter)): \(reason)"]
        }
        var text = "rotation: \(rotation.state)"
        if let key = rotation.keyId {
            text +=
                ", key \(key)" + (rotation.keysIn == "keyring" ? " in the keyring" : "")
                + (rotation.keyAgeSeconds.map { " \(compact(max(0, $0))) old" } ?? "")
        }
        if rotation.nextRotation != nil {
            text += ", next \(relative(rotation.nextRotation, now: now, past: "due"))"
        }
        var lines = [text + " (rotate_after \(rotation.rotateAfter))"]
        if !rotation.leftoverKeyIds.isEmpty {
            lines.append("leftover keys: \(rotation.leftoverKeyIds.joined(separator: ", ")) (delete once nothing uses them)")
        }
        if let error = rotation.lastError { lines.append("rotation error: \(error)") }
        return lines
    }

    /// "in 3h12m", "5m ago" (with `past` for a time already passed), "-" when unknown.
    static func relative(_ timestamp: String?, now: Date, past: String) -> String {
        guard let timestamp, let date = AWSTimestamp.parse(timestamp) else { return "-" }
        let seconds = Int(date.timeIntervalSince(now).rounded())
        if seconds >= 0 { return "in \(compact(seconds))" }
        return "\(past) \(compact(-seconds)) ago"
    }

    static func compact(_ seconds: Int) -> String {
        let hours = seconds / 3600
        let minutes = (seconds % 3600) / 60
        if hours >= 24 { return "\(hours / 24)d\(hours % 24)h" }
        if hours > 0 { return "\(hours)h\(minutes < 10 ? "0" : "")\(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(seconds)s"
    }

    private static func paint(_ text: String, state: String) -> String {
        let code: String
        switch state {
        case "fresh": code = "32"
        case "error", "expired": code = "31"
        default: code = "33"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}
