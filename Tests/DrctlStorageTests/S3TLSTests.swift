import Foundation
import Testing
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// S3 over TLS: moto behind an HTTPS relay whose certificate a private authority signed. The
/// system's authorities do not know it, so only the region's `ca_file` (or an explicit
/// `insecure_skip_tls_verify`) lets a request through; a refused handshake sends nothing.
@Suite(.serialized) final class S3TLSTests {
    let moto: MotoServer
    let certificates: TestCertificates
    let bucket = "drctl-tls"

    init() throws {
        moto = try MotoServer()
        try moto.createBucket(bucket)
        certificates = try TestCertificates()
    }

    func store(_ proxy: TLSProxy, caFile: String? = nil, insecure: Bool = false) throws -> S3ObjectStore {
        var settings = HTTPSettings()
        settings.caFile = caFile
        settings.insecureSkipTLSVerify = insecure
        return try S3ObjectStore(endpoint: proxy.endpoint, region: MotoServer.region, bucket: bucket, prefix: "tls",
                                 pathStyle: true, credentials: MotoServer.anyCredentials, settings: settings)
    }

    func proxy(names: [String] = ["IP:127.0.0.1", "DNS:localhost"]) throws -> TLSProxy {
        try TLSProxy(upstream: moto.port, certificate: certificates.server("s3", names: names))
    }

    @Test func aCertificateFromAnUnknownAuthorityIsRefusedAtOnceAndNamed() throws {
        let proxy = try proxy()
        let store = try store(proxy)
        let error = #expect(throws: StorageError.self) { try store.put("a", bytes: [1, 2, 3]) }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("TLS certificate not accepted from the S3 endpoint \(proxy.endpoint)"), "\(message)")
        #expect(message.contains("certificate problem") && message.contains("ca_file"), "\(message)")
        #expect(store.retries == 0, "a certificate that is not trusted now will not be on the next attempt")
        #expect(try proxy.relayed().isEmpty)
    }

    @Test func theRegionsAuthorityIsTrustedForEveryKindOfRequest() throws {
        let proxy = try proxy()
        let store = try store(proxy, caFile: certificates.authority)
        try store.put("small", bytes: Array("over TLS".utf8))
        #expect(try store.get("small") == Array("over TLS".utf8))
        let large = s3TestBytes(11 << 20, seed: 7)   // three parts
        try s3Write(store, "large", large)
        #expect(try s3Read(store, "large") == large)
        #expect(try store.list(prefix: "").map(\.key) == ["large", "small"])
        try store.delete("small")
        let relayed = try proxy.relayed()
        #expect(relayed.contains { $0.hasPrefix("POST /\(bucket)/tls/large?uploads") }, "\(relayed)")
        #expect(relayed.contains { $0.hasPrefix("DELETE /\(bucket)/tls/small") }, "\(relayed)")
    }

    @Test func aCertificateForAnotherNameIsRefusedEvenFromTheRegionsAuthority() throws {
        let proxy = try proxy(names: ["DNS:elsewhere.example"])
        let store = try store(proxy, caFile: certificates.authority)
        let error = #expect(throws: StorageError.self) { try store.put("a", bytes: [1]) }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("TLS certificate not accepted") && message.contains("127.0.0.1"), "\(message)")
        #expect(message.contains("ca_file \(certificates.authority)"), "\(message)")
        #expect(try proxy.relayed().isEmpty)
    }

    @Test func aCAFileThatHoldsNoCertificateIsNamed() throws {
        let proxy = try proxy()
        let notPEM = "\(certificates.directory)/not-a-bundle.pem"
        try "not a certificate\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        let store = try store(proxy, caFile: notPEM)
        let error = #expect(throws: StorageError.self) { try store.stat("a") }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("cannot load the CA certificates (the region's ca_file \(notPEM))"), "\(message)")
        #expect(try proxy.relayed().isEmpty)
    }

    @Test func skippingVerificationIsTheOnlyOtherWayThrough() throws {
        let proxy = try proxy(names: ["DNS:elsewhere.example"])
        let store = try store(proxy, insecure: true)
        try store.put("unchecked", bytes: [4, 5, 6])
        #expect(try store.get("unchecked") == [4, 5, 6])
    }

    @Test func anHTTPSURLForAPlainHTTPEndpointIsNamed() throws {
        let store = try S3ObjectStore(endpoint: "https://127.0.0.1:\(moto.port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "tls", pathStyle: true, credentials: MotoServer.anyCredentials)
        let error = #expect(throws: StorageError.self) { try store.stat("a") }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("no TLS connection to the S3 endpoint") && message.contains("http:// URL"), "\(message)")
    }
}
