import CreddRefresh

/// Sends every batch to each sink in turn, in list order: the daemon puts the endpoint's
/// in-memory snapshot before the credentials file, whose write waits for fsyncs.
struct CredentialSinks: CredentialSink {
    let sinks: [any CredentialSink]

    func apply(_ batch: [CredentialUpdate]) async {
        for sink in sinks { await sink.apply(batch) }
    }
}
