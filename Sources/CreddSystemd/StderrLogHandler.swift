import CreddCore
import Logging

/// Writes each entry as one plain line (``PlainLogLine``) to stderr: what credd logs when it is
/// not connected to the journal (a terminal, a pipe, a container).
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level

    let label: String
    private let clock: any WallClock
    private let output: any LogLineOutput

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        clock: any WallClock,
        output: any LogLineOutput = StandardErrorOutput(),
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = logLevel
        self.clock = clock
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(event, metadata: mergedMetadata(for: event))
    }

    /// Writes `event` as one line carrying `metadata` in place of its own.
    func write(_ event: LogEvent, metadata: Logger.Metadata) {
        output.write(line: PlainLogLine.format(event: event, label: label, metadata: metadata, timestamp: clock.now()))
    }

    /// The metadata `event` carries: the handler's, then the provider's, then the call site's (the
    /// later wins on a shared key), as swift-log's own handlers merge them.
    func mergedMetadata(for event: LogEvent) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let eventMetadata = event.metadata {
            merged.merge(eventMetadata) { _, new in new }
        }
        return merged
    }
}
