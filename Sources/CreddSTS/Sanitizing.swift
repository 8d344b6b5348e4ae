import Foundation

/// One line, at most 300 characters, with every occurrence of a secret replaced.
func sanitized(_ text: String, removing secrets: [String]) -> String {
    var result = text
    for secret in secrets where !secret.isEmpty {
        result = result.replacingOccurrences(of: secret, with: "<redacted>")
    }
    result = result.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: " ").trimmingCharacters(in: .whitespaces)
    if result.count > 300 { result = String(result.prefix(300)) + "…" }
    return result
}
