import Logging

/// One `NAME=value` field of a journal entry (see systemd.journal-fields(7)).
public struct JournalField: Sendable, Hashable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Builds journal entries from swift-log events. Pure, so the field mapping is tested directly.
public enum JournalFields {
    /// The journal's `SYSLOG_IDENTIFIER`: `journalctl --user -t credd` finds every entry.
    public static let syslogIdentifier = "credd"

    /// The fields for one log event: `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, the code location,
    /// `CREDD_LOGGER` (the logger label), then one `CREDD_…` field per metadata key (sorted), then
    /// `CREDD_ERROR` when the event carries an error. Values are rendered with `description`, so
    /// credd's secret types appear redacted.
    public static func fields(
        for event: LogEvent,
        label: String,
        metadata: Logger.Metadata
    ) -> [JournalField] {
        var fields = [
            JournalField(name: "MESSAGE", value: event.message.description),
            JournalField(name: "PRIORITY", value: String(priority(for: event.level))),
            JournalField(name: "SYSLOG_IDENTIFIER", value: syslogIdentifier),
            JournalField(name: "CODE_FILE", value: event.file),
            JournalField(name: "CODE_LINE", value: String(event.line)),
            JournalField(name: "CODE_FUNC", value: event.function),
            JournalField(name: "CREDD_LOGGER", value: label),
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append(JournalField(name: fieldName(forMetadataKey: key), value: value.description))
        }
        if let error = event.error {
            fields.append(JournalField(name: "CREDD_ERROR", value: String(describing: error)))
        }
        return fields
    }

    /// The syslog priority journald stores in `PRIORITY=` (syslog(3): 2 crit … 7 debug).
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// Journal field names allow only `A-Z`, `0-9` and `_`, at most 64 characters, and may not start
    /// with `_` (reserved for trusted fields). `credd.profile` → `CREDD_PROFILE`,
    /// `sts.request_id` → `CREDD_STS_REQUEST_ID`.
    public static func fieldName(forMetadataKey key: String) -> String {
        let withoutPrefix = key.hasPrefix("credd.") ? String(key.dropFirst("credd.".count)) : key
        let sanitized = withoutPrefix.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "a"..."z": return String(scalar).uppercased()
            case "A"..."Z", "0"..."9", "_": return String(scalar)
            default: return "_"
            }
        }.joined()
        return String(("CREDD_" + sanitized).prefix(maximumFieldNameLength))
    }

    private static let maximumFieldNameLength = 64
}
