/// Removes anything that could be a credential from text that credd stores or prints: a
/// helper's stderr, an AWS error body, a value quoted from the config. The one place that
/// decides what looks secret, so every output redacts the same way.
///
/// Replaced with ``placeholder``:
/// - each of the caller's known secrets, raw, percent-encoded (`%2B`, `%2f`, …) or JSON-escaped;
/// - runs of `[A-Za-z0-9+/=_-]` (a `%XX` escape or `\/` counts as one character, and `=` only
///   as padding) that are
///   ``alwaysRedactedLength`` long, or ``minimumRunLength`` long and random-looking (a percent
///   escape, or digits with both upper- and lower-case letters, or 32 hex digits): secret keys,
///   session tokens, base64 blobs, and their percent-encoded echoes;
/// - access key ids: a run starting `AKIA` or `ASIA` of ``accessKeyIdMinimumLength`` or more.
///
/// Shorter runs that do not look random are kept, because messages need them: words
/// (`MultiFactorAuthentication`), ARN resources (`assumed-role/Dev/alice`), paths
/// (`/usr/local/bin/vault-helper-2`), and AWS request ids (UUIDs).
public enum Redaction {
    public static let placeholder = "<redacted>"
    /// The longest excerpt of a helper's stderr or an AWS message that is kept.
    public static let excerptLength = 160
    /// The longest prefix of a config value that an error message quotes.
    public static let valuePrefixLength = 32
    /// Runs this long are redacted when they look random.
    public static let minimumRunLength = 20
    /// Runs this long are redacted whatever they hold.
    public static let alwaysRedactedLength = 40
    /// `AKIA`/`ASIA` runs this long are redacted (an access key id is 20 characters).
    public static let accessKeyIdMinimumLength = 16

    /// `text` with every known secret and every credential-shaped run replaced; nothing cut.
    public static func redacting(_ text: String, secrets: [String] = []) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty {
            for form in encodedForms(of: secret) { result = result.replacingEvery(form, with: placeholder) }
        }
        return redactingRuns(result)
    }

    /// ``redacting(_:secrets:)``, on one line (line breaks and control characters become
    /// single spaces) and cut to at most `limit` characters, `…` included.
    public static func excerpt(_ text: String, secrets: [String] = [], limit: Int = excerptLength) -> String {
        let redacted = redacting(text, secrets: secrets)
        let line = redacted.unicodeScalars.split { $0.properties.generalCategory == .control || $0.properties.isWhitespace }
            .map { String(String.UnicodeScalarView($0)) }.joined(separator: " ")
        return cut(line, to: limit)
    }

    /// A config value as an error message may quote it: redacted, on one line, and at most
    /// ``valuePrefixLength`` characters followed by `…`.
    public static func valuePrefix(_ value: String) -> String {
        let line = excerpt(value, limit: Int.max)
        return line.count > valuePrefixLength ? String(line.prefix(valuePrefixLength)) + "…" : line
    }

    private static func cut(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(0, limit - 1))) + "…"
    }

    /// The raw secret and the ways an echo may spell it: percent-encoded with upper- or
    /// lower-case hex (form bodies, URLs), and JSON's escaped slash.
    static func encodedForms(of secret: String) -> [String] {
        var forms = [secret]
        for hex in ["0123456789ABCDEF", "0123456789abcdef"] {
            let digits = Array(hex.unicodeScalars)
            var encoded = String.UnicodeScalarView()
            for byte in secret.utf8 {
                if isUnreserved(byte) {
                    encoded.append(Unicode.Scalar(byte))
                } else {
                    encoded.append("%")
                    encoded.append(digits[Int(byte >> 4)])
                    encoded.append(digits[Int(byte & 0x0F)])
                }
            }
            forms.append(String(encoded))
        }
        forms.append(secret.replacingEvery("/", with: "\\/"))
        return Array(Set(forms)).sorted { $0.count > $1.count }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || isDigit(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Bytes of the run character at `index`: 1 for `[A-Za-z0-9+/=_-]`, 3 for `%XX`, 2 for
    /// `\/`; 0 when `index` does not start one. A `=` belongs to a run only as base64 padding
    /// (followed by more `=` or the run's end); between two runs it separates them, so in
    /// `SECRET=value` the name stays readable and the value is judged on its own.
    private static func runMemberLength(_ bytes: [UInt8], at index: Int) -> Int {
        let byte = bytes[index]
        if byte == UInt8(ascii: "=") {
            var next = index + 1
            while next < bytes.count, bytes[next] == UInt8(ascii: "=") { next += 1 }
            return next < bytes.count && runMemberLength(bytes, at: next) > 0 ? 0 : 1
        }
        if isAlphanumeric(byte) || "+/_-".utf8.contains(byte) { return 1 }
        if byte == UInt8(ascii: "%"), index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) { return 3 }
        if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") { return 2 }
        return 0
    }

    private static func redactingRuns(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            var end = index
            var characters = 0
            var shape = RunShape()
            while end < bytes.count {
                let length = runMemberLength(bytes, at: end)
                guard length > 0 else { break }
                shape.add(bytes[end], escaped: length > 1)
                characters += 1
                end += length
            }
            guard end > index else {
                output.append(bytes[index])
                index += 1
                continue
            }
            let run = bytes[index..<end]
            if looksSecret(run, characters: characters, shape: shape) {
                output.append(contentsOf: placeholder.utf8)
            } else {
                output.append(contentsOf: run)
            }
            index = end
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// What kinds of characters a run holds.
    private struct RunShape {
        var digit = false
        var upper = false
        var lower = false
        var escape = false
        var onlyHex = true

        mutating func add(_ byte: UInt8, escaped: Bool) {
            escape = escape || escaped
            digit = digit || isDigit(byte)
            upper = upper || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            lower = lower || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            onlyHex = onlyHex && isHexDigit(byte)
        }
    }

    private static func looksSecret(_ run: ArraySlice<UInt8>, characters: Int, shape: RunShape) -> Bool {
        if characters >= accessKeyIdMinimumLength, run.starts(with: "AKIA".utf8) || run.starts(with: "ASIA".utf8) { return true }
        if characters >= alwaysRedactedLength { return true }
        guard characters >= minimumRunLength else { return false }
        return shape.escape || (shape.digit && shape.upper && shape.lower) || (shape.onlyHex && characters >= 32)
    }
}
