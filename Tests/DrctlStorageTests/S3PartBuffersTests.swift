import Testing
@testable import DrctlStorage

@Suite struct S3PartBuffersTests {
    func address(_ buffer: [UInt8]) -> UnsafeRawPointer? { buffer.withUnsafeBytes { $0.baseAddress } }

    @Test func aPartsBufferIsFilledAgainByALaterPart() {
        let spares = S3PartBuffers()
        #expect(spares.take(capacity: 5 << 20).capacity == 0, "nothing to reuse yet: allocated as it fills")
        var first = [UInt8](repeating: 7, count: 5 << 20)
        let storage = address(first)
        let parcel = S3PartBytes(first)
        first = []
        #expect(parcel.current.count == 5 << 20)
        spares.put(parcel)
        #expect(parcel.take().isEmpty, "the parcel gave its bytes away")
        #expect(spares.spareCount == 1)
        let reused = spares.take(capacity: 5 << 20)
        #expect(reused.isEmpty && reused.capacity >= 5 << 20)
        #expect(address(reused) == storage, "the same storage, not a copy")
        #expect(spares.spareCount == 0)
        #expect(spares.freedCount == 0, "reusing a spare frees nothing (and trims nothing)")
    }

    @Test func sparesTooSmallForGrownPartsAreFreed() {
        let spares = S3PartBuffers()
        spares.put(S3PartBytes([UInt8](repeating: 1, count: 5 << 20)))
        spares.put(S3PartBytes([UInt8](repeating: 2, count: 5 << 20)))
        #expect(spares.spareCount == 2)
        #expect(spares.take(capacity: 10 << 20).capacity == 0)
        #expect(spares.spareCount == 0)
        #expect(spares.freedCount == 2)

        // A small part that comes back after the parts grew is freed by the next take, not kept.
        spares.put(S3PartBytes([UInt8](repeating: 3, count: 10 << 20)))
        spares.put(S3PartBytes([UInt8](repeating: 4, count: 5 << 20)))
        #expect(spares.take(capacity: 10 << 20).capacity >= 10 << 20)
        #expect(spares.spareCount == 0)
        #expect(spares.freedCount == 3)
    }
}
