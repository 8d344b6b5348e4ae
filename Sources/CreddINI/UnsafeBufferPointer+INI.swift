/// Reading a line from its UTF-8 bytes, the parser's hot path. ASCII bytes are judged as they
/// are; a scalar is decoded only where a non-ASCII one meets a boundary. The bytes that matter
/// to INI syntax (`=`, `:`, `[`, `]`, `#`, `;`, `\r`, `\n`) are ASCII, and UTF-8 never uses an
/// ASCII byte inside a multi-byte sequence, so a byte search finds the same code points that
/// Python's configparser finds. The bytes must be valid UTF-8, as a `String`'s always are.
extension UnsafeBufferPointer<UInt8> {
    /// `range` without INI whitespace (see `isINIWhitespace`) at either end.
    func iniTrimmed(_ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end {
            let (scalar, length) = scalar(at: start)
            guard scalar.isINIWhitespace else { break }
            start += length
        }
        while start < end {
            var lastStart = end - 1
            // Continuation bytes are 0b10xxxxxx; the scalar starts at the byte before them.
            while lastStart > start, self[lastStart] & 0xC0 == 0x80 { lastStart -= 1 }
            guard scalar(at: lastStart).scalar.isINIWhitespace else { break }
            end = lastStart
        }
        return start..<end
    }

    /// How many whitespace scalars the bytes start with: configparser's indentation.
    func iniIndentation() -> Int {
        var count = 0
        var index = 0
        while index < self.count {
            let (scalar, length) = scalar(at: index)
            guard scalar.isINIWhitespace else { break }
            count += 1
            index += length
        }
        return count
    }

    /// Whether lowercasing could change the bytes in `range` (an ASCII capital, or anything
    /// outside ASCII).
    func mayNeedLowercasing(_ range: Range<Int>) -> Bool {
        self[range].contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || $0 >= 0x80 }
    }

    /// The index of the first `\n` or `\r` at or after `start`. Eight bytes at a time: this
    /// scans every byte of the file on each parse, and every value written.
    func firstLineBreak(from start: Int) -> Int? {
        guard let base = baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var index = start
        while index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Non-zero exactly when some byte is below 0x0E, as both line breaks are.
            let ones: UInt64 = 0x0101_0101_0101_0101
            if (word &- ones &* 0x0E) & ~word & (ones &* 0x80) != 0 {
                if let found = self[index..<(index + 8)].firstIndex(where: Self.isLineBreak) { return found }
            }
            index += 8
        }
        return self[index...].firstIndex(where: Self.isLineBreak)
    }

    private static func isLineBreak(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    /// The bytes in `range` as a string.
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[range]), as: UTF8.self)
    }

    /// The scalar whose encoding starts at `index`, and its length in bytes.
    func scalar(at index: Int) -> (scalar: Unicode.Scalar, length: Int) {
        let lead = self[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        // The lead byte keeps 7 - length payload bits; each continuation byte six.
        var value = UInt32(lead) & (0x7F >> UInt32(length))
        for offset in 1..<length { value = value << 6 | UInt32(self[index + offset] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }
}
