import CreddCore
import CreddDaemon
import FoundationEssentials

/// Renders `credd status` for a person: one row per profile, times relative to now, the last
/// error on its own line under the row, colour only when asked (a terminal).
enum StatusTable {
    static func render(_ document: StatusDocument, now: Date, colour: Bool) -> String {
        let header = ["PROFILE", "STATE", "EXPIRES", "NEXT REFRESH", "SOURCE"]
        let rows = document.profiles.map { profile in
            [
                profile.name,
                profile.state,
                relative(profile.expiration, now: now, past: "expired"),
                relative(profile.next_refresh, now: now, past: "due"),
                profile.source,
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String], state: String?) -> String {
            cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? cell : cell.padding(to: widths[column])
                guard colour, column == 1, let state else { return padded }
                return paint(padded, state: state)
            }
            .joined(separator: "  ")
        }

        var out = ""
        for problem in document.daemon.config_errors {
            out += "config: \(problem)\n"
        }
        if document.profiles.isEmpty {
            return out + "no managed profiles in \(document.daemon.config_file)\n"
        }
        out += line(header, state: nil) + "\n"
        for (profile, row) in zip(document.profiles, rows) {
            out += line(row, state: profile.state) + "\n"
            if let error = profile.error {
                out += "    \(profile.state == "fresh" ? "last error" : "error"): \(error)\n"
            }
            if let rotation = profile.rotation {
                out += rotationLines(rotation, now: now).map { "    \($0)\n" }.joined()
            }
        }
        return out
    }

    /// `rotation: scheduled, key AKIA… 12d3h old, next in 77d20h (rotate_after 90d)`, then the
    /// leftover keys and the last error on lines of their own.
    static func rotationLines(_ rotation: StatusDocument.Rotation, now: Date) -> [String] {
        if let reason = rotation.unavailable_reason {
            return ["rotation: unavailable (rotate_after \(rotation.rotate_after)): \(reason)"]
        }
        var text = "rotation: \(rotation.state)"
        if let key = rotation.key_id {
            text += ", key \(key)" + (rotation.key_age_seconds.map { " \(compact(max(0, $0))) old" } ?? "")
        }
        if rotation.next_rotation != nil {
            text += ", next \(relative(rotation.next_rotation, now: now, past: "due"))"
        }
        var lines = [text + " (rotate_after \(rotation.rotate_after))"]
        if !rotation.leftover_key_ids.isEmpty {
            lines.append("leftover keys: \(rotation.leftover_key_ids.joined(separator: ", ")) (delete once nothing uses them)")
        }
        if let error = rotation.last_error { lines.append("rotation error: \(error)") }
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
