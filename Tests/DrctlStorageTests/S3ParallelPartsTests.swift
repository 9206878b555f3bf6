import Testing
import DrctlTestSupport
@testable import DrctlStorage

/// Parts go up in parallel, as many at once as the writer's part memory allows.
@Suite(.serialized) final class S3ParallelPartsTests {
    let moto: MotoServer
    let bucket = "drctl-parallel"

    init() throws { moto = try MotoServer.holding(bucket: bucket) }

    func write(uploadMemory: Int, key: String) throws -> Int {
        // Every UploadPart is held 0.5 s by the proxy, which counts how many it holds at once.
        let relay = try FaultProxy(upstream: moto.port, every: 1_000_000, faults: ["none"], holdParts: 0.5)
        var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(relay.port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "", pathStyle: true, credentials: MotoServer.anyCredentials, partSize: 5 << 20)
        store.uploadMemory = uploadMemory
        let data = s3TestBytes((25 << 20) + 7, seed: 21)
        try s3Write(store, key, data)
        #expect(try s3Read(moto.store(bucket: bucket), key) == data)
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
        return try relay.stats().partsAtOnce
    }

    @Test func threeBuffersMeanTwoPartsInFlightWhileTheThirdFills() throws {
        #expect(try write(uploadMemory: 15 << 20, key: "three") == 2)
    }

    @Test func oneBufferMeansOnePartAtATime() throws {
        #expect(try write(uploadMemory: 5 << 20, key: "one") == 1)
    }

}
