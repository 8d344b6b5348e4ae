import Logging

/// The log of a command run by hand (`credd rotate`): its progress on stderr, one line a step,
/// `credd: Created a new access key (aws.access_key_id=AKIA…)`. Errors are left out: the
/// command prints its failure itself, once.
struct CommandLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level < .error else { return }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        writeToStandardError("credd: \(event.message)" + (details.isEmpty ? "" : " (\(details))") + "\n")
    }
}
