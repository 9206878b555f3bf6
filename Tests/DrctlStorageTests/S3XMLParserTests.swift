import Testing
@testable import DrctlStorage

/// The XML reader that replaced Foundation's XMLParser (libxml2) for S3 and STS answers: what
/// those servers send is read as XMLParser read it, and what is not well formed is refused.
/// Real answers go through it in every S3 test against moto; these are the corners.
struct S3XMLParserTests {
    func parse(_ text: String) -> S3XMLElement? { S3XMLElement.parse(Array(text.utf8)) }

    @Test func aListingWithItsDeclarationNamespaceAndEntitiesIsRead() throws {
        let root = try #require(parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>\
            <Contents><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x1F600;</Key><Size>12</Size></Contents>\
            <Contents><Key>plain</Key><Size>0</Size><Owner/></Contents><IsTruncated>false</IsTruncated></ListBucketResult>
            """))
        #expect(root.name == "ListBucketResult")
        #expect(root.all("Contents").map { $0.value("Key") } == ["a & b <c> \"d\" 'e' é😀", "plain"])
        #expect(root.all("Contents")[1].child("Owner") == S3XMLElement(name: "Owner"))
        #expect(root.value("IsTruncated") == "false")
    }

    @Test func prefixesCommentsCDATAAndLineEndsAreReadAsXMLReadsThem() throws {
        let root = try #require(parse(
            "<!-- before --><sts:Response xmlns:sts='x' a=\"1>2\"><sts:Id>i<!-- inside -->d</sts:Id>"
                + "<T><![CDATA[<not> & markup]]></T><L>one\r\ntwo\rthree</L><?pi ignored?></sts:Response>\n<!-- after -->"))
        #expect(root.name == "Response")
        #expect(root.value("Id") == "id")
        #expect(root.value("T") == "<not> & markup")
        #expect(root.value("L") == "one\ntwo\nthree")
    }

    @Test func whatIsNotWellFormedIsRefused() {
        let refused = [
            "", "   ", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a/><b/>", "<a/>trailing",
            "<a>&unknown;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#+12;</a>", "<a>&amp</a>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "<a><!DOCTYPE b></a>", "<a b></a>", "<a b=c></a>",
            "<a b='c></a>", "<a><![CDATA[never closed</a>", "<a><!-- never closed</a>", "</a>",
        ]
        for text in refused {
            #expect(parse(text) == nil, "\(text.debugDescription) was read")
        }
        #expect(S3XMLElement.parse([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E]) == nil, "bytes that are not UTF-8 were read")
    }

    @Test func nestingIsBoundedAtTheMaximumDepth() throws {
        func nested(_ depth: Int) -> String { String(repeating: "<a>", count: depth) + "x" + String(repeating: "</a>", count: depth) }
        var element = try #require(parse(nested(S3XMLParser.maximumDepth))), levels = 1
        while let child = element.children.first { element = child; levels += 1 }
        #expect(levels == S3XMLParser.maximumDepth && element.text == "x")
        #expect(parse(nested(S3XMLParser.maximumDepth + 1)) == nil)
    }

    /// Element content round-trips through `escaped`.
    @Test func escapedTextReadsBackAsItself() throws {
        let text = "a&b<c>d\"e'f é"
        #expect(parse("<k>\(S3XMLElement.escaped(text))</k>")?.text == text)
    }
}
