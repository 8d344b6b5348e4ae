/// A parsed XML element of an AWS Query API response: name, text and children, nothing more.
public struct AWSXMLElement: Sendable, Hashable {
    /// Local name, without any namespace prefix.
    public let name: String
    /// The concatenated character data directly inside this element, untrimmed.
    public let text: String
    public let children: [AWSXMLElement]

    /// The first direct child called `name`.
    public func child(_ name: String) -> AWSXMLElement? {
        children.first { $0.name == name }
    }

    /// Follows a path of direct children: `element.child(at: "Credentials", "AccessKeyId")`.
    public func child(at path: String...) -> AWSXMLElement? {
        path.reduce(Optional(self)) { $0?.child($1) }
    }

    /// The first element called `name` at any depth, depth-first.
    public func firstDescendant(_ name: String) -> AWSXMLElement? {
        for child in children {
            if child.name == name { return child }
            if let found = child.firstDescendant(name) { return found }
        }
        return nil
    }

    /// Parses a document; `nil` when it is empty, truncated or not well-formed.
    ///
    /// A small reader for what AWS Query APIs send (elements, attributes, character data with
    /// the predefined and numeric entities, CDATA, comments, processing instructions) rather
    /// than FoundationXML: that pulls in libxml2 and full Foundation, and cost most of a
    /// renewal's CPU. A document type declaration is refused (AWS never sends one).
    public static func parse(_ bytes: [UInt8]) -> AWSXMLElement? {
        var reader = AWSXMLReader(bytes: bytes)
        return reader.document()
    }
}

/// A cursor over the document's bytes; every method returns `nil` (or `false`) on malformed input.
private struct AWSXMLReader {
    private struct Partial {
        var qualifiedName: ArraySlice<UInt8>
        var text: [UInt8] = []
        var children: [AWSXMLElement] = []
    }

    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    mutating func document() -> AWSXMLElement? {
        guard skipMisc(), index < bytes.count, let root = element(), skipMisc(), index == bytes.count else { return nil }
        return root
    }

    /// Whitespace, comments and processing instructions outside the root element.
    private mutating func skipMisc() -> Bool {
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
            } else if has("<?") {
                guard skip(past: "?>") else { return false }
            } else if has("<!--") {
                guard skip(past: "-->") else { return false }
            } else {
                return true
            }
        }
        return true
    }

    /// The element at `index` (which is at its `<`), with an explicit stack of open elements.
    private mutating func element() -> AWSXMLElement? {
        var stack: [Partial] = []
        repeat {
            guard index < bytes.count else { return nil }
            if bytes[index] != UInt8(ascii: "<") {
                guard !stack.isEmpty, characterData(into: &stack[stack.count - 1].text) else { return nil }
            } else if has("</") {
                index += 2
                let name = name()
                skipSpaces()
                guard let name, consume(">"), let open = stack.popLast(),
                    open.qualifiedName.elementsEqual(name), let finished = Self.finish(open)
                else { return nil }
                if stack.isEmpty { return finished }
                stack[stack.count - 1].children.append(finished)
            } else if has("<!--") {
                guard !stack.isEmpty, skip(past: "-->") else { return nil }
            } else if has("<![CDATA[") {
                index += 9
                let start = index
                guard !stack.isEmpty, skip(past: "]]>") else { return nil }
                stack[stack.count - 1].text += bytes[start..<(index - 3)]
            } else if has("<?") {
                guard !stack.isEmpty, skip(past: "?>") else { return nil }
            } else {
                index += 1
                guard let name = name(), let selfClosing = attributes() else { return nil }
                let open = Partial(qualifiedName: name)
                if selfClosing {
                    guard let finished = Self.finish(open) else { return nil }
                    if stack.isEmpty { return finished }
                    stack[stack.count - 1].children.append(finished)
                } else {
                    stack.append(open)
                }
            }
        } while true
    }

    private static func finish(_ partial: Partial) -> AWSXMLElement? {
        let local =
            partial.qualifiedName.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).last
            ?? partial.qualifiedName
        guard let name = String(validating: local, as: UTF8.self),
            let text = String(validating: partial.text, as: UTF8.self)
        else { return nil }
        return AWSXMLElement(name: name, text: text, children: partial.children)
    }

    /// Skips attributes up to the end of a start tag; `true` when the tag was `/>`.
    private mutating func attributes() -> Bool? {
        while true {
            let hadSpace = skipSpaces()
            guard index < bytes.count else { return nil }
            if consume("/>") { return true }
            if consume(">") { return false }
            guard hadSpace, name() != nil else { return nil }
            skipSpaces()
            guard consume("=") else { return nil }
            skipSpaces()
            guard index < bytes.count else { return nil }
            let quote = bytes[index]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
            index += 1
            var ignored: [UInt8] = []
            guard characterData(into: &ignored, until: quote), consume(quote) else { return nil }
        }
    }

    /// Character data up to the next `<` (or `terminator`), with entities decoded.
    private mutating func characterData(into text: inout [UInt8], until terminator: UInt8 = UInt8(ascii: "<")) -> Bool {
        while index < bytes.count, bytes[index] != terminator {
            let byte = bytes[index]
            if byte == UInt8(ascii: "&") {
                guard let decoded = entity() else { return false }
                text += decoded
            } else {
                guard byte != UInt8(ascii: "<") else { return false }
                text.append(byte)
                index += 1
            }
        }
        return true
    }

    /// `&name;` or `&#…;` at `index`, as UTF-8.
    private mutating func entity() -> [UInt8]? {
        guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ";")), end - index <= 10 else { return nil }
        let body = bytes[(index + 1)..<end]
        index = end + 1
        switch String(decoding: body, as: UTF8.self) {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        case let reference where reference.hasPrefix("#x"):
            return UInt32(reference.dropFirst(2), radix: 16).flatMap(Self.utf8)
        case let reference where reference.hasPrefix("#"):
            return UInt32(reference.dropFirst(), radix: 10).flatMap(Self.utf8)
        default:
            return nil
        }
    }

    private static func utf8(_ value: UInt32) -> [UInt8]? {
        guard value != 0, let scalar = Unicode.Scalar(value) else { return nil }
        return Array(String(Character(scalar)).utf8)
    }

    /// An XML name (with any prefix); `nil` when none starts at `index`.
    private mutating func name() -> ArraySlice<UInt8>? {
        let start = index
        while index < bytes.count, !isSpace(bytes[index]), !"/>=<&\"'".utf8.contains(bytes[index]) {
            index += 1
        }
        guard index > start, !Self.cannotStartName(bytes[start]) else { return nil }
        return bytes[start..<index]
    }

    /// Digits and `-.` may not start a name; `!` and `?` start declarations, not elements.
    private static func cannotStartName(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-.!?".utf8.contains(byte)
    }

    /// Skips whitespace; `true` when there was some.
    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = index
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func has(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        return literal.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
    }

    private mutating func consume(_ literal: StaticString) -> Bool {
        guard has(literal) else { return false }
        index += literal.utf8CodeUnitCount
        return true
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Moves past the next `terminator`; `false` when there is none.
    private mutating func skip(past terminator: StaticString) -> Bool {
        while index < bytes.count {
            if consume(terminator) { return true }
            index += 1
        }
        return false
    }
}
