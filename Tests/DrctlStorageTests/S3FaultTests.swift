import Foundation
import Testing
import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// The store through `proxy`, with a 1 s stall timeout.
func s3Store(through proxy: FaultProxy, bucket: String, credentials: S3Credentials = MotoServer.anyCredentials,
             deadline: Double = 60) throws -> S3ObjectStore {
    var settings = HTTPSettings()
    settings.stallTimeout = 1
    var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(proxy.port)", region: MotoServer.region, bucket: bucket,
                                  prefix: "", pathStyle: true, credentials: credentials, settings: settings,
                                  partSize: 5 << 20)
    store.readWindow = 3 << 20
    store.retryDeadline = deadline
    return store
}

@Suite(.serialized) final class S3FaultTests {
    let moto: MotoServer
    let bucket = "drctl-faults"

    init() throws {
        moto = try MotoServer()
        try moto.createBucket(bucket)
    }

    @Test func aMultipartWriteAndReadSurviveFaults() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 3, faults: ["500", "503", "reset", "stall", "applied-reset"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(20 << 20, seed: 77)
        try s3Write(store, "mp/big", data)
        #expect(try s3Read(store, "mp/big") == data)
        try store.put("mp/small", bytes: Array("small object".utf8))
        #expect(try store.get("mp/small") == Array("small object".utf8))
        #expect(try store.list(prefix: "mp/").map(\.key) == ["mp/big", "mp/small"])
        let stats = try proxy.stats()
        #expect(stats.faults >= 5, "\(stats)")
        #expect(store.retries >= stats.faults - 1, "retries \(store.retries), \(stats)")
        #expect(store.retries > 0)
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    /// A body that arrives corrupted is refused (BadDigest, as AWS does) and sent again from the
    /// part's buffer; what is stored is what was written.
    @Test func corruptedBodiesAreRefusedAndSentAgain() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 2, faults: ["corrupt"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(12 << 20, seed: 41)
        try s3Write(store, "corrupt/big", data)
        try store.put("corrupt/small", bytes: Array("small object".utf8))
        #expect(try s3Read(moto.store(bucket: bucket), "corrupt/big") == data)
        #expect(try moto.store(bucket: bucket).get("corrupt/small") == Array("small object".utf8))
        let stats = try proxy.stats()
        // Three parts and the small PUT carry checksums, each verified once it arrived intact.
        #expect(stats.checksumsVerified == 4, "\(stats)")
        #expect(stats.faults >= 2 && store.retries >= 2, "retries \(store.retries), \(stats)")
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    @Test func aBodyThatKeepsArrivingCorruptedFailsClearly() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["corrupt"])
        var store = try s3Store(through: proxy, bucket: bucket)
        store.retryPolicy.maxAttempts = 3
        let error = #expect(throws: StorageError.self) { try store.put("never-intact", bytes: s3TestBytes(1000, seed: 9)) }
        let text = "\(error!)"
        #expect(text.contains("did not match its digest") && text.contains("S3 BadDigest, HTTP 400"), "\(text)")
        #expect(text.contains("gave up after 3 attempts"), "\(text)")
        #expect(store.retries == 2)
        // A multipart write too: its parts never get through, its upload is aborted.
        let big = #expect(throws: StorageError.self) { try s3Write(store, "never-intact-big", s3TestBytes(6 << 20, seed: 10)) }
        #expect("\(big!)".contains("BadDigest"), "\(big!)")
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
        #expect(try moto.store(bucket: bucket).stat("never-intact") == nil)
        #expect(try moto.store(bucket: bucket).stat("never-intact-big") == nil)
    }

    /// Refused at once with the setting to change named; with `checksums: false` the same endpoint
    /// takes single PUTs and multipart uploads.
    @Test func anEndpointThatRefusesChecksumsIsNamedAndServedWithout() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1_000_000, faults: ["none"], refuseChecksums: true)
        let store = try s3Store(through: proxy, bucket: bucket)
        let error = #expect(throws: StorageError.self) { try store.put("b2/small", bytes: [1, 2, 3]) }
        #expect("\(error!)".contains("set `checksums: false` on this region") && "\(error!)".contains("S3 InvalidArgument, HTTP 400"),
                "\(error!)")
        #expect(store.retries == 0)
        let big = #expect(throws: StorageError.self) { try s3Write(store, "b2/big", s3TestBytes(6 << 20, seed: 12)) }
        #expect("\(big!)".contains("`checksums: false`"), "\(big!)")
        var plain = try s3Store(through: proxy, bucket: bucket)
        plain.additionalChecksums = false
        let data = s3TestBytes(12 << 20, seed: 13)
        try s3Write(plain, "b2/big", data)
        try plain.put("b2/small", bytes: [1, 2, 3])
        #expect(try s3Read(plain, "b2/big") == data)
        #expect(try plain.get("b2/small") == [1, 2, 3])
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    @Test func aSinglePutWhoseAnswerIsLostIsNotAConflict() throws {
        // Request 1 (the PUT) is carried out by moto, then its answer is lost; the retry gets 412.
        let first = try FaultProxy(upstream: moto.port, every: 1, faults: ["applied-reset", "none", "none", "none"])
        let store = try s3Store(through: first, bucket: bucket)
        try store.put("lost-answer", bytes: Array("once".utf8))
        #expect(store.retries == 1)
        #expect(try moto.store(bucket: bucket).get("lost-answer") == Array("once".utf8))
        // A real conflict is still one.
        let again = try s3Store(through: first, bucket: bucket)
        let error = #expect(throws: StorageError.self) { try again.put("lost-answer", bytes: Array("twice".utf8)) }
        #expect(error == .alreadyExists(key: "lost-answer", location: again.location))
    }

    @Test func aCompleteWhoseAnswerIsLostIsNotAFailure() throws {
        // 6 MiB: CreateMultipartUpload (1), part 1 (2), part 2 (3), Complete (4) is lost after moto did it.
        let proxy = try FaultProxy(upstream: moto.port, every: 4, faults: ["applied-reset", "none"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(6 << 20, seed: 5)
        try s3Write(store, "lost-complete", data)
        #expect(store.retries >= 1)
        #expect(try s3Read(moto.store(bucket: bucket), "lost-complete") == data)
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    /// A ranged read goes through the writes' retry policy: one window answered by SlowDown, a
    /// reset and bodies cut in the middle five times in a row is fetched a sixth time (a reader of
    /// its own retried 3 times, under a second apart).
    @Test func aRangedReadRetriesAsAWriteDoes() throws {
        let data = s3TestBytes(7 << 20, seed: 21)
        try s3Write(moto.store(bucket: bucket), "ranged/big", data)
        // Request 1 is the reader's HEAD; 2-6 the first window's attempts; the rest pass.
        let proxy = try FaultProxy(upstream: moto.port, every: 1,
                                   faults: ["none", "503", "cut", "reset", "cut", "503"] + Array(repeating: "none", count: 30))
        let store = try s3Store(through: proxy, bucket: bucket)
        #expect(try s3Read(store, "ranged/big") == data)
        #expect(store.retries == 5, "\(store.retries)")
        // The HEAD, six attempts at the first window, one at each of the other two.
        #expect(try proxy.stats().requests == 9)
    }

    /// The same policy bounds reads: with 3 attempts a window that fails 3 times is given up,
    /// saying so; a body cut in the middle is named as the transfer that failed.
    @Test func aRangedReadGivesUpWithinThePolicy() throws {
        let data = s3TestBytes(4 << 20, seed: 22)
        try s3Write(moto.store(bucket: bucket), "ranged/bounded", data)
        let proxy = try FaultProxy(upstream: moto.port, every: 1,
                                   faults: ["none", "503", "503", "cut"] + Array(repeating: "none", count: 30))
        var store = try s3Store(through: proxy, bucket: bucket)
        store.retryPolicy.maxAttempts = 3
        let error = #expect(throws: StorageError.self) { _ = try s3Read(store, "ranged/bounded") }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("gave up after 3 attempts") && text.contains("transfer failed"), "\(text)")
        #expect(store.retries == 2)
    }

    /// A storm (SlowDown on a fifth of requests, resets and cut bodies on a tenth each, a few
    /// stalls), seeded: a 20 MiB object read back three times through each, intact each time. A
    /// single reader's requests come one at a time, so a seed gives the same faults every run;
    /// with these two a reader that tried a window 4 times gave up.
    @Test(arguments: [2, 4] as [UInt64]) func readsSurviveASeededStorm(seed: UInt64) throws {
        let data = s3TestBytes(20 << 20, seed: 23)
        let key = "storm/\(seed)"
        try s3Write(moto.store(bucket: bucket), key, data)
        let proxy = try FaultProxy(upstream: moto.port, seed: seed, rates: ["503": 0.2, "reset": 0.1, "cut": 0.1, "stall": 0.02])
        let store = try s3Store(through: proxy, bucket: bucket)
        for _ in 0..<3 {
            #expect(try s3Read(store, key) == data)
        }
        let stats = try proxy.stats()
        #expect(stats.faults >= 5 && store.retries == stats.faults, "retries \(store.retries), \(stats)")
    }

    @Test func aServerThatKeepsSlowingDownFailsAtTheDeadline() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["503"])
        let store = try s3Store(through: proxy, bucket: bucket, deadline: 2)
        let started = Date()
        let error = #expect(throws: StorageError.self) { try s3Write(store, "never", s3TestBytes(100, seed: 1)) }
        let elapsed = Date().timeIntervalSince(started)
        let text = "\(error!)"
        #expect(text.contains("SlowDown") && text.contains("HTTP 503"), "\(text)")
        #expect(text.contains("gave up after") && text.contains("attempts"), "\(text)")
        #expect(elapsed >= 1.5 && elapsed < 10, "\(elapsed)")
        // A multipart write too: its first request fails, nothing is left behind.
        let big = #expect(throws: StorageError.self) { try s3Write(store, "never-big", s3TestBytes(6 << 20, seed: 2)) }
        #expect("\(big!)".contains("SlowDown"))
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
        #expect(try moto.store(bucket: bucket).stat("never") == nil)
    }

    @Test func attemptsAreBounded() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["500"])
        var store = try s3Store(through: proxy, bucket: bucket)
        store.retryPolicy.maxAttempts = 3
        let error = #expect(throws: StorageError.self) { _ = try store.list(prefix: "") }
        #expect("\(error!)".contains("InternalError") && "\(error!)".contains("gave up after 3 attempts"), "\(error!)")
        #expect(store.retries == 2)
        #expect(try proxy.stats().requests == 3)
    }

    @Test func backoffIsFullJitterUnderTheCap() {
        let policy = HTTPRetryPolicy.s3
        for attempt in 1...12 {
            let ceiling = min(5, 0.1 * Double(1 << (attempt - 1)))
            for _ in 0..<50 {
                let pause = policy.backoff(after: attempt)
                #expect(pause >= 0 && pause <= ceiling)
            }
        }
    }

    @Test func aRefusedConnectionIsNotRetried() throws {
        let port = try LoopbackPort.free()
        var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "", pathStyle: true, credentials: MotoServer.anyCredentials)
        store.retryDeadline = 30
        let started = Date()
        #expect(throws: StorageError.self) { _ = try store.stat("x") }
        #expect(store.retries == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

/// Through the fault proxy, moto enforcing signatures: authentication errors are not retried.
@Suite(.serialized) final class S3FaultSignedTests {
    let moto: MotoServer
    let credentials: S3Credentials
    let bucket = "drctl-faults-signed"

    init() throws {
        moto = try MotoServer(noAuthActions: 3)
        credentials = try moto.createIAMUser("drctl")
        try moto.createBucket(bucket, credentials: credentials)
    }

    @Test func aWrongSecretFailsAtOnce() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 3, faults: ["503"])
        let wrong = S3Credentials(accessKeyID: credentials.accessKeyID, secretAccessKey: "wrong" + credentials.secretAccessKey)
        let store = try s3Store(through: proxy, bucket: bucket, credentials: wrong)
        let error = #expect(throws: StorageError.self) { try store.put("k", bytes: [1]) }
        #expect("\(error!)".contains("signature mismatch: check the secret access key"), "\(error!)")
        #expect(store.retries == 0)
        #expect(try proxy.stats().requests == 1)
        // The right key through the same proxy works despite its faults.
        let good = try s3Store(through: proxy, bucket: bucket, credentials: credentials)
        let data = s3TestBytes((5 << 20) + 99, seed: 3)
        try s3Write(good, "signed", data)
        #expect(try s3Read(good, "signed") == data)
        #expect(good.retries > 0)
        #expect(try moto.store(bucket: bucket, credentials: credentials).pendingUploads().isEmpty)
    }
}
