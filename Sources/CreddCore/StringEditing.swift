// Stand-ins for the two `NSString` methods credd used, so that no module needs full Foundation
// (and with it ICU, several MiB of idle RSS).
extension StringProtocol {
    /// Without leading and trailing white space: spaces and tabs, and with `newlines` also line
    /// breaks (Foundation's `.whitespaces` and `.whitespacesAndNewlines`).
    public func trimmingWhitespace(newlines: Bool = false) -> String {
        let isBlank: (Unicode.Scalar) -> Bool = { scalar in
            newlines ? scalar.properties.isWhitespace : scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// `self` padded with spaces to at least `width` characters.
    public func padding(to width: Int) -> String {
        count >= width ? String(self) : self + String(repeating: " ", count: width - count)
    }

    /// Every occurrence of `target` replaced, matched scalar by scalar: the standard library's
    /// `replacing` matches whole `Character`s, so it would not find "\n" inside "\r\n".
    public func replacingEvery(_ target: String, with replacement: String) -> String {
        String(String.UnicodeScalarView(unicodeScalars).replacing(target.unicodeScalars, with: replacement.unicodeScalars))
    }
}
