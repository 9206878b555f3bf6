import DrctlCrypto
import Foundation
import Testing
@testable import DrctlStorage

// MARK: AWS's generic Signature V4 test suite (aws-sig-v4-test-suite, 2015 edition)

/// One case of the suite: the request (`target` is the raw request line target, `headers` those besides
/// `Host` and `X-Amz-Date`, which the signer owns) and the published canonical request, string-to-sign
/// hash and signature.
struct SuiteVector: Sendable, CustomTestStringConvertible {
    var name: String
    var method = "GET"
    var target: String
    var headers: [(name: String, value: String)] = []
    var body = ""
    var sessionToken: String? = nil
    var canonicalRequest: String
    var stringToSignHash: String
    var signature: String

    var testDescription: String { name }
}

private let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
private let suiteCredentials = S3Credentials(accessKeyID: "AKIDEXAMPLE",
                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
private let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
private let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
private let suiteToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

/// The canonical request of a suite case with no extra headers and an empty body.
private func plain(_ method: String, _ uri: String, _ query: String = "") -> String {
    """
    \(method)
    \(uri)
    \(query)
    host:example.amazonaws.com
    x-amz-date:20150830T123600Z

    host;x-amz-date
    \(empty)
    """
}

let suiteVectors: [SuiteVector] = [
    SuiteVector(
        name: "get-header-key-duplicate", target: "/",
        headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
        canonicalRequest: """
            GET
            /

            host:example.amazonaws.com
            my-header1:value2,value2,value1
            x-amz-date:20150830T123600Z

            host;my-header1;x-amz-date
            \(empty)
            """,
        stringToSignHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    SuiteVector(
        name: "get-header-value-order", target: "/",
        headers: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
        canonicalRequest: """
            GET
            /

            host:example.amazonaws.com
            my-header1:value4,value1,value3,value2
            x-amz-date:20150830T123600Z

            host;my-header1;x-amz-date
            \(empty)
            """,
        stringToSignHash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
        signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
    SuiteVector(
        name: "get-header-value-trim", target: "/",
        headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
        canonicalRequest: """
            GET
            /

            host:example.amazonaws.com
            my-header1:value1
            my-header2:"a b c"
            x-amz-date:20150830T123600Z

            host;my-header1;my-header2;x-amz-date
            \(empty)
            """,
        stringToSignHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    SuiteVector(
        name: "get-unreserved", target: "/\(unreserved)",
        canonicalRequest: plain("GET", "/\(unreserved)"),
        stringToSignHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    SuiteVector(
        name: "get-utf8", target: "/\u{1234}",
        canonicalRequest: plain("GET", "/%E1%88%B4"),
        stringToSignHash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    SuiteVector(
        name: "get-vanilla", target: "/",
        canonicalRequest: """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """,
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "get-vanilla-empty-query-key", target: "/?Param1=value1",
        canonicalRequest: plain("GET", "/", "Param1=value1"),
        stringToSignHash: "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
        signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
    SuiteVector(
        name: "get-vanilla-query", target: "/",
        canonicalRequest: plain("GET", "/"),
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "get-vanilla-query-order-key", target: "/?Param1=value2&Param1=Value1",
        canonicalRequest: plain("GET", "/", "Param1=Value1&Param1=value2"),
        stringToSignHash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
        signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
    SuiteVector(
        name: "get-vanilla-query-order-key-case", target: "/?Param2=value2&Param1=value1",
        canonicalRequest: plain("GET", "/", "Param1=value1&Param2=value2"),
        stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    SuiteVector(
        name: "get-vanilla-query-order-value", target: "/?Param1=value2&Param1=value1",
        canonicalRequest: plain("GET", "/", "Param1=value1&Param1=value2"),
        stringToSignHash: "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
        signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
    SuiteVector(
        name: "get-vanilla-query-unreserved", target: "/?\(unreserved)=\(unreserved)",
        canonicalRequest: plain("GET", "/", "\(unreserved)=\(unreserved)"),
        stringToSignHash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    SuiteVector(
        name: "get-vanilla-utf8-query", target: "/?\u{1234}=bar",
        canonicalRequest: plain("GET", "/", "%E1%88%B4=bar"),
        stringToSignHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    SuiteVector(
        name: "normalize-path/get-relative", target: "/example/..",
        canonicalRequest: plain("GET", "/"),
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "normalize-path/get-relative-relative", target: "/example1/example2/../..",
        canonicalRequest: plain("GET", "/"),
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "normalize-path/get-slash", target: "//",
        canonicalRequest: plain("GET", "/"),
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "normalize-path/get-slash-dot-slash", target: "/./",
        canonicalRequest: plain("GET", "/"),
        stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    SuiteVector(
        name: "normalize-path/get-slash-pointless-dot", target: "/./example",
        canonicalRequest: plain("GET", "/example"),
        stringToSignHash: "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
        signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
    SuiteVector(
        name: "normalize-path/get-slashes", target: "//example//",
        canonicalRequest: plain("GET", "/example/"),
        stringToSignHash: "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
        signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    SuiteVector(
        name: "normalize-path/get-space", target: "/example space/",
        canonicalRequest: plain("GET", "/example%20space/"),
        stringToSignHash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
        signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    // The suite's request spells these headers `HOST` and `X-AMZ-DATE`; the signer owns both.
    SuiteVector(
        name: "post-header-key-case", method: "POST", target: "/",
        headers: [("X-AMZ-DATE", "20150830T123600Z")],
        canonicalRequest: plain("POST", "/"),
        stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    SuiteVector(
        name: "post-header-key-sort", method: "POST", target: "/",
        headers: [("My-Header1", "value1")],
        canonicalRequest: """
            POST
            /

            host:example.amazonaws.com
            my-header1:value1
            x-amz-date:20150830T123600Z

            host;my-header1;x-amz-date
            \(empty)
            """,
        stringToSignHash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    SuiteVector(
        name: "post-header-value-case", method: "POST", target: "/",
        headers: [("My-Header1", "VALUE1")],
        canonicalRequest: """
            POST
            /

            host:example.amazonaws.com
            my-header1:VALUE1
            x-amz-date:20150830T123600Z

            host;my-header1;x-amz-date
            \(empty)
            """,
        stringToSignHash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
    SuiteVector(
        name: "post-sts-token/post-sts-header-before", method: "POST", target: "/", sessionToken: suiteToken,
        canonicalRequest: """
            POST
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z
            x-amz-security-token:\(suiteToken)

            host;x-amz-date;x-amz-security-token
            \(empty)
            """,
        stringToSignHash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    SuiteVector(
        name: "post-vanilla", method: "POST", target: "/",
        canonicalRequest: plain("POST", "/"),
        stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    SuiteVector(
        name: "post-vanilla-empty-query-value", method: "POST", target: "/?Param1=value1",
        canonicalRequest: plain("POST", "/", "Param1=value1"),
        stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    SuiteVector(
        name: "post-vanilla-query", method: "POST", target: "/?Param1=value1",
        canonicalRequest: plain("POST", "/", "Param1=value1"),
        stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    SuiteVector(
        name: "post-x-www-form-urlencoded", method: "POST", target: "/",
        headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
        canonicalRequest: """
            POST
            /

            content-type:application/x-www-form-urlencoded
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            """,
        stringToSignHash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    SuiteVector(
        name: "post-x-www-form-urlencoded-parameters", method: "POST", target: "/",
        headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], body: "Param1=value1",
        canonicalRequest: """
            POST
            /

            content-type:application/x-www-form-urlencoded; charset=utf8
            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            """,
        stringToSignHash: "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
]

@Suite struct SignatureV4SuiteTests {
    /// Signs a suite request with the generic rules (path normalization, all headers signed).
    static func sign(_ vector: SuiteVector) -> SignatureV4.Signed {
        var credentials = suiteCredentials
        credentials.sessionToken = vector.sessionToken
        let signer = SignatureV4(credentials: credentials, region: "us-east-1", service: "service", s3PathRules: false)
        let parts = vector.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let request = SignatureV4.Request(
            method: vector.method, host: "example.amazonaws.com", path: String(parts[0]),
            query: parts.count > 1 ? SignatureV4.parseQuery(String(parts[1])) : [],
            headers: vector.headers, payloadSHA256: hex(sha256(Array(vector.body.utf8))))
        return signer.sign(request, date: suiteDate)
    }

    @Test(arguments: suiteVectors)
    func publishedVector(_ vector: SuiteVector) {
        let signed = Self.sign(vector)
        #expect(signed.canonicalRequest == vector.canonicalRequest)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            \(vector.stringToSignHash)
            """)
        let signedHeaders = vector.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last!
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(vector.signature)")
        #expect(signed.signature == vector.signature)
    }

    /// awslabs/aws-c-auth tests/aws-signing-test-suite/v4/get-vanilla-with-session-token (signature only).
    @Test func sessionTokenVectorFromAwsCAuth() {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let signed = Self.sign(SuiteVector(name: "get-vanilla-with-session-token", target: "/", sessionToken: token,
                                           canonicalRequest: "", stringToSignHash: "", signature: ""))
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
            + "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
        #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == token })
    }

    /// AWS's published key derivation example (secret of the suite, 20120215, us-east-1, iam).
    @Test func signingKeyDerivation() {
        let signer = SignatureV4(credentials: suiteCredentials, region: "us-east-1", service: "iam", s3PathRules: false)
        #expect(hex(signer.signingKey(dateStamp: "20120215"))
            == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    /// The same suite paths under S3 rules: no normalization at all.
    @Test func s3RulesKeepThePathAsItIs() {
        for (path, canonical) in [("/example/..", "/example/.."), ("/example1/example2/../..", "/example1/example2/../.."),
                                  ("//", "//"), ("/./", "/./"), ("/./example", "/./example"),
                                  ("//example//", "//example//"), ("/example space/", "/example%20space/"),
                                  ("", "/"), ("key", "/key")] {
            #expect(SignatureV4.canonicalURI(path, s3PathRules: true) == canonical, "\(path)")
        }
    }
}

// MARK: The S3 documentation's examples

/// "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk
/// (AWS Signature Version 4)", Amazon S3 API Reference, examples for examplebucket on 2013-05-24.
@Suite struct SignatureV4S3DocumentationTests {
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SignatureV4(
        credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                   secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let host = "examplebucket.s3.amazonaws.com"

    static func check(_ signed: SignatureV4.Signed, canonicalRequest: String, stringToSignHash: String,
                      authorization: String) {
        #expect(signed.canonicalRequest == canonicalRequest)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            \(stringToSignHash)
            """)
        // The documentation writes the Authorization value without spaces after the commas; the
        // signer writes ", " as the SDKs and the generic suite do. Both are accepted by S3.
        #expect(signed.authorization.replacingOccurrences(of: ", ", with: ",") == authorization)
    }

    @Test func getObjectWithRange() {
        let signed = Self.signer.sign(SignatureV4.Request(
            method: "GET", host: Self.host, path: "/test.txt", headers: [("Range", "bytes=0-9")]), date: Self.date)
        Self.check(signed, canonicalRequest: """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """,
            stringToSignHash: "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// Headers outside the S3 signing rule (`Expect`, which libcurl may drop, `User-Agent`, `Accept`)
    /// are not signed: adding them leaves the documented signature unchanged.
    @Test func unsignedHeadersDoNotChangeTheSignature() {
        let signed = Self.signer.sign(SignatureV4.Request(
            method: "GET", host: Self.host, path: "/test.txt",
            headers: [("Expect", "100-continue"), ("Range", "bytes=0-9"), ("User-Agent", "drctl/1"),
                      ("Accept", "*/*"), ("Transfer-Encoding", "chunked")]), date: Self.date)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")
    }

    @Test func putObject() {
        let payload = hex(sha256(Array("Welcome to Amazon S3.".utf8)))
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.signer.sign(SignatureV4.Request(
            method: "PUT", host: Self.host, path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadSHA256: payload), date: Self.date)
        Self.check(signed, canonicalRequest: """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """,
            stringToSignHash: "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(signed.headers.map(\.name) == ["Authorization", "x-amz-date", "x-amz-content-sha256"])
        #expect(signed.headers[2].value == payload)
    }

    @Test func getBucketLifecycle() {
        let signed = Self.signer.sign(SignatureV4.Request(
            method: "GET", host: Self.host, path: "/", query: SignatureV4.parseQuery("lifecycle")), date: Self.date)
        Self.check(signed, canonicalRequest: """
            GET
            /
            lifecycle=
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """,
            stringToSignHash: "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                + "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    /// Given out of order (`prefix` first) to check the sort.
    @Test func getBucketListObjects() {
        let signed = Self.signer.sign(SignatureV4.Request(
            method: "GET", host: Self.host, path: "/", query: [("prefix", "J"), ("max-keys", "2")]), date: Self.date)
        Self.check(signed, canonicalRequest: """
            GET
            /
            max-keys=2&prefix=J
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """,
            stringToSignHash: "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }
}

// MARK: Edge cases (where libcurl 7.88's CURLOPT_AWS_SIGV4 goes wrong)

@Suite struct SignatureV4EdgeTests {
    static let signer = SignatureV4(credentials: S3Credentials(accessKeyID: "AK", secretAccessKey: "SK"),
                                    region: "eu-central-1")
    static let date = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14T22:13:20Z

    static func sign(_ path: String = "/b/k", query: [(name: String, value: String?)] = [],
                     headers: [(name: String, value: String)] = [], host: String = "s3.example.com",
                     signer: SignatureV4 = signer) -> SignatureV4.Signed {
        signer.sign(SignatureV4.Request(method: "POST", host: host, path: path, query: query, headers: headers,
                                        payloadSHA256: SignatureV4.unsignedPayload), date: date)
    }

    static func lines(_ signed: SignatureV4.Signed) -> [Substring] {
        signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
    }

    @Test func valuelessParameterSignsWithEquals() {
        #expect(SignatureV4.parseQuery("uploads").map(\.value) == [nil])
        let signed = Self.sign(query: SignatureV4.parseQuery("uploads"))
        #expect(Self.lines(signed)[2] == "uploads=")
        #expect(SignatureV4.encodedPathAndQuery(path: "/b/k", query: SignatureV4.parseQuery("uploads")) == "/b/k?uploads")
        // An explicit empty value is the same canonical parameter.
        #expect(SignatureV4.canonicalQueryString([("uploads", "")]) == "uploads=")
    }

    @Test func queryIsSortedByEncodedNameThenValue() {
        #expect(SignatureV4.canonicalQueryString([("uploadId", "x"), ("partNumber", "1")]) == "partNumber=1&uploadId=x")
        #expect(SignatureV4.encodedPathAndQuery(path: "/b/k", query: [("uploadId", "x"), ("partNumber", "1")])
            == "/b/k?partNumber=1&uploadId=x")
        // Upper case sorts before lower case (bytes), equal names by value.
        #expect(SignatureV4.canonicalQueryString([("b", "2"), ("B", "1"), ("a", "z"), ("a", "A")]) == "B=1&a=A&a=z&b=2")
        // Sorted on the *encoded* form: "%2F" (0x25) before "." and letters.
        #expect(SignatureV4.canonicalQueryString([("x", "a.b"), ("x", "a/b")]) == "x=a%2Fb&x=a.b")
        // A name that is a prefix of another comes first.
        #expect(SignatureV4.canonicalQueryString([("list-type", "2"), ("list", "1")]) == "list=1&list-type=2")
        // Mixed valueless and valued.
        #expect(SignatureV4.canonicalQueryString([("versionId", "v1"), ("acl", nil)]) == "acl=&versionId=v1")
    }

    @Test func queryValuesAreEncodedIncludingSlash() {
        let query: [(name: String, value: String?)] = [("prefix", "data/pg main/ü"), ("delimiter", "/"),
                                                       ("continuation-token", "a+b=c~d")]
        #expect(SignatureV4.canonicalQueryString(query)
            == "continuation-token=a%2Bb%3Dc~d&delimiter=%2F&prefix=data%2Fpg%20main%2F%C3%BC")
        #expect(SignatureV4.encodedPathAndQuery(path: "/bucket", query: query)
            == "/bucket?continuation-token=a%2Bb%3Dc~d&delimiter=%2F&prefix=data%2Fpg%20main%2F%C3%BC")
        // A raw query is decoded first, so an already-encoded value is not encoded twice; "+" stays "+".
        #expect(SignatureV4.canonicalQueryString(SignatureV4.parseQuery("prefix=a%2Fb%20c&x=1+2"))
            == "prefix=a%2Fb%20c&x=1%2B2")
    }

    @Test func s3PathIsEncodedOnceAndNotNormalized() {
        let path = "/bucket/data/a b+c/ü~x/./y/../z//$&=,;:@!*'()"
        let expected = "/bucket/data/a%20b%2Bc/%C3%BC~x/./y/../z//%24%26%3D%2C%3B%3A%40%21%2A%27%28%29"
        #expect(SignatureV4.canonicalURI(path, s3PathRules: true) == expected)
        #expect(Self.lines(Self.sign(path))[1] == Substring(expected))
        #expect(SignatureV4.encodedPathAndQuery(path: path, query: []) == expected)
        // A literal "%" in a key is data, encoded once more.
        #expect(SignatureV4.canonicalURI("/b/100%", s3PathRules: true) == "/b/100%25")
    }

    @Test func genericPathIsNormalized() {
        #expect(SignatureV4.canonicalURI("/a/./b/../c//d/", s3PathRules: false) == "/a/c/d/")
        #expect(SignatureV4.canonicalURI("/../..", s3PathRules: false) == "/")
    }

    @Test func headerNamesSharingAPrefixAreSortedByName() {
        let signed = Self.sign(headers: [("X-Amz-Meta-Ab", "2"), ("x-amz-meta-a-b", "3"), ("X-Amz-Meta-A", "1")])
        #expect(signed.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-a-b;x-amz-meta-ab")
        let all = SignatureV4(credentials: S3Credentials(accessKeyID: "AK", secretAccessKey: "SK"),
                              region: "eu-central-1", rules: .generic)
        let generic = Self.sign(headers: [("Content-Type-X", "b"), ("Content-Type", "a")], signer: all)
        #expect(generic.signedHeaders == "content-type;content-type-x;host;x-amz-date")
        #expect(Self.lines(generic)[3...4] == ["content-type:a", "content-type-x:b"])
    }

    @Test func headerValuesAreTrimmedCollapsedAndJoined() {
        let signed = Self.sign(headers: [("x-amz-meta-note", "  one \t  two  "), ("X-Amz-Meta-Multi", "a"),
                                         ("x-amz-meta-multi", " b  c ")])
        let lines = Self.lines(signed)
        #expect(lines.contains("x-amz-meta-note:one two"))
        #expect(lines.contains("x-amz-meta-multi:a,b c"))
    }

    @Test func s3RuleSignsOnlyTheListedHeaders() {
        let signed = Self.sign(headers: [
            ("Expect", "100-continue"), ("Content-Type", "application/octet-stream"), ("Content-Length", "5"),
            ("Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="), ("Range", "bytes=0-1"), ("User-Agent", "drctl"),
            ("Accept", "*/*"), ("Transfer-Encoding", "chunked"), ("x-amz-meta-k", "v"),
        ])
        #expect(signed.signedHeaders
            == "content-length;content-md5;content-type;host;range;x-amz-content-sha256;x-amz-date;x-amz-meta-k")
        #expect(!signed.canonicalRequest.contains("expect"))
    }

    @Test func sessionTokenIsSentAndSigned() {
        let signer = SignatureV4(credentials: S3Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN/+="),
                                 region: "eu-central-1")
        // A stale caller token is replaced by the credentials' one.
        let signed = Self.sign(headers: [("X-Amz-Security-Token", "old")], signer: signer)
        #expect(signed.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        #expect(Self.lines(signed).contains("x-amz-security-token:TOKEN/+="))
        #expect(!signed.canonicalRequest.contains("old"))
        #expect(signed.headers.map(\.name) == ["Authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"])
        #expect(signed.headers[3].value == "TOKEN/+=")
        // Without a token the header is neither added nor signed.
        #expect(!Self.sign().signedHeaders.contains("x-amz-security-token"))
    }

    @Test func signerOwnsHostDateAndPayloadHeaders() {
        let signed = Self.sign(headers: [("Host", "evil.example"), ("X-Amz-Date", "19990101T000000Z"),
                                         ("Authorization", "x"), ("x-amz-content-sha256", "0000")])
        let lines = Self.lines(signed)
        #expect(lines[3...5] == ["host:s3.example.com", "x-amz-content-sha256:UNSIGNED-PAYLOAD", "x-amz-date:20231114T221320Z"])
        #expect(lines.last == "UNSIGNED-PAYLOAD")
        #expect(signed.headers[1] == ("x-amz-date", "20231114T221320Z"))
        #expect(signed.headers[2] == ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
        #expect(signed.authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AK/20231114/eu-central-1/s3/aws4_request, "))
    }

    @Test func hostCarriesANonDefaultPort() {
        #expect(SignatureV4.hostHeader(host: "minio.local", port: 9000, secure: false) == "minio.local:9000")
        #expect(SignatureV4.hostHeader(host: "minio.local", port: 80, secure: false) == "minio.local")
        #expect(SignatureV4.hostHeader(host: "s3.amazonaws.com", port: 443, secure: true) == "s3.amazonaws.com")
        #expect(SignatureV4.hostHeader(host: "s3.amazonaws.com", port: 80, secure: true) == "s3.amazonaws.com:80")
        #expect(SignatureV4.hostHeader(host: "s3.amazonaws.com", port: nil, secure: true) == "s3.amazonaws.com")
        #expect(SignatureV4.hostHeader(host: "::1", port: 9000, secure: false) == "[::1]:9000")
        let signed = Self.sign(host: SignatureV4.hostHeader(host: "127.0.0.1", port: 9000, secure: false))
        #expect(Self.lines(signed)[3] == "host:127.0.0.1:9000")
    }

    @Test func conveniencesAgree() {
        let headers = Self.signer.sign(method: "POST", host: "s3.example.com", path: "/b/k", query: [("uploads", nil)],
                                       payloadSHA256: SignatureV4.unsignedPayload, date: Self.date)
        let full = Self.sign(query: [("uploads", nil)])
        #expect(headers.count == full.headers.count)
        #expect(headers.first?.value == full.authorization)
    }

    @Test func timestampsAreUTC() {
        #expect(SignatureV4.timestamps(Self.date) == ("20231114T221320Z", "20231114"))
        #expect(SignatureV4.timestamps(Date(timeIntervalSince1970: 951_782_400)) == ("20000229T000000Z", "20000229"))
        #expect(SignatureV4.timestamps(Date(timeIntervalSince1970: 0.999)) == ("19700101T000000Z", "19700101"))
        #expect(SignatureV4.timestamps(Date(timeIntervalSince1970: 4_102_444_799)) == ("20991231T235959Z", "20991231"))
    }

    @Test func credentialsDescriptionHidesSecrets() {
        let text = String(describing: S3Credentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOK"))
        #expect(text.contains("AKID") && !text.contains("SECRET") && !text.contains("TOK"))
    }
}
