import Testing
@testable import DrctlStorage

/// The memory arithmetic of parallel parts (ARCHITECTURE.md "Storage").
@Suite struct S3PartsInFlightTests {
    let base = 5 << 20
    let memory = 15 << 20

    @Test func partsInFlightShrinkAsPartsGrowSoBuffersStayWithinTheBudget() {
        #expect(S3ObjectWriter.partsInFlight(1, base: base, memory: memory) == 3)
        #expect(S3ObjectWriter.partsInFlight(1000, base: base, memory: memory) == 3)
        #expect(S3ObjectWriter.partsInFlight(1001, base: base, memory: memory) == 1)
        #expect(S3ObjectWriter.partsInFlight(2001, base: base, memory: memory) == 1)
        for number in stride(from: 1, through: 10_000, by: 7) {
            let part = S3ObjectWriter.partSize(number, base: base)
            let buffered = S3ObjectWriter.partsInFlight(number, base: base, memory: memory) * part
            #expect(buffered <= max(memory, part), "part \(number)")
        }
    }

    @Test func objectsUpTo14GiBNeedNoMoreThanTheBudgetAnd5TBStillFit() {
        // Parts 1–2000 are at most 10 MiB: the objects they hold never need more than 15 MiB of buffers.
        let withinBudget = (1...2000).reduce(UInt64(0)) { $0 + UInt64(S3ObjectWriter.partSize($1, base: base)) }
        #expect(withinBudget >= 14 << 30)
        #expect(S3ObjectWriter.partSize(2000, base: base) <= memory)
        #expect(S3ObjectWriter.partSize(2001, base: base) > memory)
        let all = (1...10_000).reduce(UInt64(0)) { $0 + UInt64(S3ObjectWriter.partSize($1, base: base)) }
        #expect(all >= 5_000_000_000_000)
    }
}
