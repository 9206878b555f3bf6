import Testing
@testable import DrctlStorage

struct S3ErrorResponseTests {
    func explain(_ code: String, status: Int = 403, message: String = "the server's words") -> String {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message>"
            + "<RequestId>1</RequestId></Error>"
        let error = S3ErrorResponse(status: status, body: Array(xml.utf8))
        #expect(error.code == code)
        #expect(error.message == message)
        return error.explanation(region: "eu-west-3", bucket: "backups")
    }

    @Test func knownCodesGetAClearMessage() {
        #expect(explain("SignatureDoesNotMatch").hasPrefix("signature mismatch: check the secret access key (S3 SignatureDoesNotMatch, HTTP 403, region eu-west-3, bucket backups): the server's words"))
        #expect(explain("InvalidAccessKeyId").contains("check the access key ID"))
        #expect(explain("AccessDenied").hasPrefix("access denied"))
        #expect(explain("NoSuchBucket", status: 404).hasPrefix("bucket 'backups' does not exist"))
        #expect(explain("RequestTimeTooSkewed").hasPrefix("clock skew"))
        #expect(explain("AuthorizationHeaderMalformed", status: 400).contains("not in region 'eu-west-3'"))
        #expect(explain("ExpiredToken", status: 400).contains("session token"))
        #expect(explain("BadDigest", status: 400).hasPrefix("the body the endpoint received did not match its digest"))
        #expect(explain("InvalidArgument", status: 400, message: "Unsupported header 'x-amz-checksum-sha256' received for this API call.")
                    .hasPrefix("the endpoint refuses S3 additional checksums: set `checksums: false`"))
        #expect(explain("InvalidRequest", status: 400, message: "Unsupported header 'x-amz-sdk-checksum-algorithm'")
                    .contains("`checksums: false`"))
        #expect(explain("InvalidArgument", status: 400).hasPrefix("S3 refused the request"))
        #expect(explain("SomethingNew", status: 400).contains("(S3 SomethingNew, HTTP 400"))
    }

    @Test func bodylessAnswersAreNamedByStatus() {
        let head = S3ErrorResponse(status: 403, body: [])
        #expect(head.code == nil)
        #expect(head.explanation(region: "r", bucket: "b").contains("S3 Forbidden, HTTP 403"))
        #expect(S3ErrorResponse(status: 502, body: Array("<html>bad gateway</html>".utf8)).code == nil)
    }

    @Test func aTwoHundredWithAnErrorDocumentIsAnError() {
        #expect(S3ErrorResponse.isError(Array("<Error><Code>InternalError</Code></Error>".utf8)))
        #expect(!S3ErrorResponse.isError(Array("<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>".utf8)))
    }
}
