import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

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
    public static func parse(_ bytes: [UInt8]) -> AWSXMLElement? {
        guard !bytes.isEmpty else { return nil }
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        parser.shouldProcessNamespaces = true
        guard parser.parse() else { return nil }
        return builder.root
    }
}

/// XMLParser's delegate: builds the element tree with an explicit stack.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private struct Partial {
        var name: String
        var text = ""
        var children: [AWSXMLElement] = []
    }

    private var stack: [Partial] = []
    private(set) var root: AWSXMLElement?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        stack.append(Partial(name: elementName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let finished = stack.popLast() else { return }
        let element = AWSXMLElement(name: finished.name, text: finished.text, children: finished.children)
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}
