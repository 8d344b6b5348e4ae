import CreddCore
import FoundationEssentials
import Logging

/// Formats one log event as one line for stderr:
/// `2026-05-01T12:00:00Z warning credd.refresh: Renewal failed credd.profile=dev error="…"`.
public enum PlainLogLine {
    public static func format(
        event: LogEvent,
        label: String,
        metadata: Logger.Metadata,
        timestamp: Date
    ) -> String {
        var line = "\(AWSTimestamp.format(timestamp)) \(event.level) \(label): \(escaped(event.message.description))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(quotedIfNeeded(value.description))"
        }
        if let error = event.error {
            line += " error=\(quotedIfNeeded(String(describing: error)))"
        }
        return line
    }

    /// Keeps an entry on one line.
    private static func escaped(_ text: String) -> String {
        text.replacingEvery("\\", with: "\\\\")
            .replacingEvery("\r", with: "\\r")
            .replacingEvery("\n", with: "\\n")
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0.isWhitespace || $0 == "\"" || $0 == "=" }
        let body = escaped(value)
        return needsQuotes ? "\"" + body.replacingEvery("\"", with: "\\\"") + "\"" : body
    }
}
