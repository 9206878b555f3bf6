import Foundation
import Glibc
import DrctlCrypto
import DrctlPipeline
import DrctlSources
@testable import DrctlStorage

/// A moto S3 server (`python3 -m moto.server`, from `moto[server]`) on a free loopback port, for
/// one test suite. With `noAuthActions` set, moto enforces Signature V4 and IAM after that many
/// unauthenticated requests (`INITIAL_NO_AUTH_ACTION_COUNT`).
final class MotoServer: @unchecked Sendable {
    let child: ChildProcess
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }
    static let region = "us-east-1"
    /// Any key works while moto does not check signatures.
    static let anyCredentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "not-checked")

    init(noAuthActions: Int? = nil) throws {
        port = try Self.freePort()
        var environment: [String: String] = [:]
        if let noAuthActions { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = String(noAuthActions) }
        // moto logs every request; its output goes nowhere so no pipe can fill up.
        child = try ChildProcess(argv: ["sh", "-c", "exec python3 -m moto.server -H 127.0.0.1 -p \(port) >/dev/null 2>&1"],
                                 environment: environment)
        // Wait for the port to accept connections (a TCP connect is not an action moto counts).
        for _ in 0..<200 {
            if Self.canConnect(port) { return }
            if let exit = child.poll() { throw MotoError("moto exited at startup: \(exit)") }
            usleep(100_000)
        }
        child.terminate(grace: 1)
        child.wait()
        throw MotoError("moto did not start on port \(port) within 20 s")
    }

    deinit {
        child.terminate(grace: 2)
        child.wait()
    }

    func store(bucket: String, prefix: String = "", pathStyle: Bool = true, credentials: S3Credentials = anyCredentials,
               partSize: Int = 5 << 20) throws -> S3ObjectStore {
        let endpoint = pathStyle ? self.endpoint : "http://localhost:\(port)"   // *.localhost is loopback for libcurl
        return try S3ObjectStore(endpoint: endpoint, region: Self.region, bucket: bucket, prefix: prefix,
                                 pathStyle: pathStyle, credentials: credentials, settings: HTTPSettings(),
                                 partSize: partSize)
    }

    /// CreateBucket (signed like every request of `store`).
    func createBucket(_ bucket: String, credentials: S3Credentials = anyCredentials) throws {
        let store = try self.store(bucket: bucket, credentials: credentials)
        _ = try store.expectSuccess(
            store.send(HTTPClient(), method: "PUT", objectKey: nil, operation: "create bucket", key: ""),
            operation: "create bucket", key: "")
    }

    /// The IAM query API on the same endpoint: a user with an allow-all inline policy and an access key.
    /// These are three requests: with `noAuthActions: 3` they are the unauthenticated ones.
    func createIAMUser(_ name: String) throws -> S3Credentials {
        _ = try iam(["Action": "CreateUser", "UserName": name])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try iam(["Action": "PutUserPolicy", "UserName": name, "PolicyName": "all", "PolicyDocument": policy])
        let root = try iam(["Action": "CreateAccessKey", "UserName": name])
        guard let key = Self.find(root, "AccessKeyId"), let secret = Self.find(root, "SecretAccessKey") else {
            throw MotoError("CreateAccessKey answer without a key")
        }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret)
    }

    private func iam(_ parameters: [String: String]) throws -> S3XMLElement {
        let form = (parameters.merging(["Version": "2010-05-08"]) { a, _ in a })
            .sorted { $0.key < $1.key }
            .map { "\(SignatureV4.uriEncode($0.key, keepingSlash: false))=\(SignatureV4.uriEncode($0.value, keepingSlash: false))" }
            .joined(separator: "&")
        let body = Array(form.utf8)
        let host = "127.0.0.1:\(port)"
        let headers: [(name: String, value: String)] = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        let signer = SignatureV4(credentials: Self.anyCredentials, region: Self.region, service: "iam", rules: .generic)
        let signed = signer.sign(method: "POST", host: host, path: "/", headers: headers,
                                 payloadSHA256: hex(sha256(body)), date: Date())
        let (response, reply) = try HTTPClient().perform(HTTPRequest(
            method: "POST", url: "http://\(host)/", headers: (headers + signed).map { ($0.name, $0.value) },
            body: HTTPRequestBody(bytes: body)))
        guard response.status == 200, let root = S3XMLElement.parse(reply) else {
            throw MotoError("IAM \(parameters["Action"]!): HTTP \(response.status): \(String(decoding: reply, as: UTF8.self))")
        }
        return root
    }

    private static func find(_ element: S3XMLElement, _ name: String) -> String? {
        if element.name == name { return element.text }
        for child in element.children {
            if let found = find(child, name) { return found }
        }
        return nil
    }

    // MARK: Sockets

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoError("socket: \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw MotoError("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    struct MotoError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

extension MotoServer {
    /// A moto server holding an empty `bucket`.
    static func holding(bucket: String) throws -> MotoServer {
        let moto = try MotoServer()
        try moto.createBucket(bucket)
        return moto
    }
}
