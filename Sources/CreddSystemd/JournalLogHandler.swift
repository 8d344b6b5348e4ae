import CreddCore
import Logging

/// Writes each entry to the journal as structured fields (``JournalFields``). When the journal
/// refuses an entry, the entry goes to stderr as a plain line with the reason, so nothing is lost
/// silently (systemd connects stderr to the journal too).
public struct JournalLogHandler: LogHandler {
    /// Holds the label, level and metadata, and writes the entries the journal refuses.
    private var fallback: StderrLogHandler
    private let writer: any JournalWriter

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        writer: any JournalWriter = NativeJournalWriter(),
        clock: any WallClock,
        fallbackOutput: any LogLineOutput = StandardErrorOutput(),
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.writer = writer
        self.fallback = StderrLogHandler(
            label: label, logLevel: logLevel, clock: clock, output: fallbackOutput, metadataProvider: metadataProvider
        )
    }

    public var metadata: Logger.Metadata {
        get { fallback.metadata }
        set { fallback.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { fallback.metadataProvider }
        set { fallback.metadataProvider = newValue }
    }

    public var logLevel: Logger.Level {
        get { fallback.logLevel }
        set { fallback.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { fallback[metadataKey: key] }
        set { fallback[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = fallback.mergedMetadata(for: event)
        do {
            try writer.write(JournalFields.fields(for: event, label: fallback.label, metadata: merged))
        } catch {
            var withReason = merged
            withReason["journal.error"] = .string(error.description)
            fallback.write(event, metadata: withReason)
        }
    }
}
