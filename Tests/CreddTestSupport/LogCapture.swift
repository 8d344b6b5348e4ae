import InMemoryLogging
import Logging

extension Logger {
    /// A logger that records every entry, at every level, in `handler`, and reports each one to
    /// `changes`, so tests can wait for an entry without polling.
    public static func recording(into handler: InMemoryLogHandler, label: String = "credd.test", changes: ChangeSignal? = nil) -> Logger {
        var configured = handler
        configured.logLevel = .trace
        let recorder = SignallingLogHandler(recorder: configured, changes: changes)
        return Logger(label: label) { _ in recorder }
    }
}

/// Records into an `InMemoryLogHandler`, then signals.
private struct SignallingLogHandler: LogHandler {
    var recorder: InMemoryLogHandler
    let changes: ChangeSignal?

    var logLevel: Logger.Level {
        get { recorder.logLevel }
        set { recorder.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { recorder.metadata }
        set { recorder.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { recorder[metadataKey: key] }
        set { recorder[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.log(event: event)
        changes?.changed()
    }
}

extension InMemoryLogHandler {
    /// Every entry as one line, `level message key=value …` with keys sorted, for searching
    /// logs (for secrets, for state changes).
    public var renderedLines: [String] {
        entries.map { entry in
            let metadata = entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(entry.level) \(entry.message) \(metadata)"
        }
    }

    /// All of ``renderedLines`` in one text.
    public var renderedText: String { renderedLines.joined(separator: "\n") }
}
