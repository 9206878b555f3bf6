import Foundation
import Glibc
import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// A moto S3 server (`python3 -m moto.server`, from `moto[server]` in `PythonTools`) on a free loopback port, for
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
        var environment: [String: String] = [:]
        if let noAuthActions { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = String(noAuthActions) }
        // A free port can be taken between our choice and moto's bind: then moto exits, and
        // another port is tried.
        for _ in 0..<3 {
            let port = try LoopbackPort.free()
            // moto logs every request; its output goes nowhere so no pipe can fill up.
            let child = try ChildProcess(argv: ["sh", "-c", "exec \"$0\" -m moto.server -H 127.0.0.1 -p \(port) >/dev/null 2>&1",
                                                try PythonTools.python],
                                         environment: .inherited(adding: environment))
            for _ in 0..<200 {
                if PortOwner.listens(pid: child.pid, on: port) {
                    (self.port, self.child) = (port, child)
                    return
                }
                if child.poll() != nil { break }
                usleep(100_000)
            }
            child.terminate(grace: 1)
            child.wait()
        }
        throw MotoError("moto did not start within 20 s on any of three ports")
    }

    deinit {
        thaw()   // a stopped server would not see SIGTERM until continued
        child.terminate(grace: 2)
        child.wait()
    }

    /// Stops the server (SIGSTOP): it still accepts connections (the kernel queues them) but
    /// answers nothing, as a frozen endpoint does. `deinit` continues it before ending it.
    func freeze() { kill(child.pid, SIGSTOP) }

    /// Continues a frozen server (SIGCONT).
    func thaw() { kill(child.pid, SIGCONT) }

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
