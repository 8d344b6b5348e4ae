import InMemoryLogging
import Logging

extension Logger {
    /// A logger that records every entry, at every level, in `handler`.
    public static func recording(into handler: InMemoryLogHandler, label: String = "credd.test") -> Logger {
        var configured = handler
        configured.logLevel = .trace
        let recorder = configured
        return Logger(label: label) { _ in recorder }
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
