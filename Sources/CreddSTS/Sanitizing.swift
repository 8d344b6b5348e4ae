import CreddCore

/// What an AWS message or a helper's stderr may become in an error: one line, at most
/// `Redaction.excerptLength` characters, with `secrets` (raw or percent-encoded) and anything
/// shaped like a credential replaced.
func sanitized(_ text: String, removing secrets: [String]) -> String {
    Redaction.excerpt(text, secrets: secrets)
}
