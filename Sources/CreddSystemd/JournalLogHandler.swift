import CreddCore
import Logging

/// Writes each entry to the journal as structured fields (``JournalFields``). When the journal
/// refuses an entry, the entry goes to stderr as a plain line with the reason, so nothing is lost
/// silently (systemd connects stderr to the journal too).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level

    private let label: String
    private let writer: any JournalWriter
    private let clock: any WallClock
    private let fallbackOutput: any LogLineOutput

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        writer: any JournalWriter = LibsystemdJournalWriter(),
        clock: any WallClock,
        fallbackOutput: any LogLineOutput = StandardErrorOutput(),
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = logLevel
        self.writer = writer
        self.clock = clock
        self.fallbackOutput = fallbackOutput
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(handler: metadata, provider: metadataProvider, event: event.metadata)
        do {
            try writer.write(JournalFields.fields(for: event, label: label, metadata: merged))
        } catch {
            var fallback = merged
            fallback["journal.error"] = .string(error.description)
            fallbackOutput.write(
                line: PlainLogLine.format(event: event, label: label, metadata: fallback, timestamp: clock.now())
            )
        }
    }
}
