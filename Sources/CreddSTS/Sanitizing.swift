import FoundationEssentials

/// One line, at most 300 characters, with every occurrence of a secret replaced.
func sanitized(_ text: String, removing secrets: [String]) -> String {
    var result = text
    for secret in secrets where !secret.isEmpty {
        result = result.replacingEvery(secret, with: "<redacted>")
    }
    result = result.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
        .joined(separator: " ").trimmingWhitespace()
    if result.count > 300 { result = String(result.prefix(300)) + "…" }
    return result
}
