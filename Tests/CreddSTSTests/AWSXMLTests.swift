import Testing

@testable import CreddSTS

@Suite("AWS XML reader")
struct AWSXMLTests {
    @Test("reads an STS response: prolog, default namespace, nested elements, untrimmed text")
    func stsResponse() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleResult>
                <Credentials>
                  <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
                  <Expiration>2026-11-23T12:00:00Z</Expiration>
                </Credentials>
              </AssumeRoleResult>
              <ResponseMetadata><RequestId> req-1 </RequestId></ResponseMetadata>
            </AssumeRoleResponse>
            """
        let root = try #require(AWSXMLElement.parse(Array(xml.utf8)))
        #expect(root.name == "AssumeRoleResponse")
        #expect(root.child(at: "AssumeRoleResult", "Credentials", "AccessKeyId")?.text == "ASIAEXAMPLE")
        #expect(root.child(at: "ResponseMetadata", "RequestId")?.text == " req-1 ")
        #expect(root.firstDescendant("Expiration")?.text == "2026-11-23T12:00:00Z")
        #expect(root.children.map(\.name) == ["AssumeRoleResult", "ResponseMetadata"])
    }

    @Test("prefixes, entities, character references, CDATA, comments, attributes, empty elements")
    func syntax() throws {
        let xml = """
            \u{FEFF}<!-- before --><p:Error xmlns:p='urn:x' kind = "a&amp;b">\
            <p:Message>a&amp;b &lt;&#65;&#x42;&gt; &quot;&apos; <![CDATA[<raw & kept>]]><!-- c --><?pi x?>é</p:Message>\
            <Empty/><Empty2 a="1" /></p:Error>
            """
        let root = try #require(AWSXMLElement.parse(Array(xml.utf8)))
        #expect(root.name == "Error")
        #expect(root.child("Message")?.text == "a&b <AB> \"' <raw & kept>é")
        #expect(root.child("Empty") == AWSXMLElement(name: "Empty", text: "", children: []))
        #expect(root.child("Empty2")?.text == "")
    }

    @Test(
        "malformed, truncated or unexpected documents are refused",
        arguments: [
            "", "   ", "<a>", "<a></b>", "<a>x</a>trailing", "<a/><b/>", "<a>&bogus;</a>", "<a>&#0;</a>",
            "<a>&amp</a>", "<!DOCTYPE a><a/>", "{\"not\": \"xml\"}", "<a b></a>", "<a b=c/>", "<a b=\"c/>",
            "<a>x<</a>", "<a><![CDATA[x</a>", "<a><!-- x</a>", "<?xml version=\"1.0\"", "<1a/>", "<a>x</a",
            "<html>Not Found</html", "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA",
        ])
    func refused(xml: String) {
        #expect(AWSXMLElement.parse(Array(xml.utf8)) == nil)
    }

    @Test("invalid UTF-8 in a name or text is refused")
    func invalidUTF8() {
        #expect(AWSXMLElement.parse(Array("<a>".utf8) + [0xC3, 0x28] + Array("</a>".utf8)) == nil)
        #expect(AWSXMLElement.parse([UInt8(ascii: "<"), 0xFF, UInt8(ascii: "/"), UInt8(ascii: ">")]) == nil)
    }
}
