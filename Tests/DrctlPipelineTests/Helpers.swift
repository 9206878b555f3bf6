import Foundation
@testable import DrctlPipeline

/// Bytes from memory, handed out in pieces of at most `step`.
final class MemorySource: ByteSource, @unchecked Sendable {
    let bytes: [UInt8]
    let step: Int
    var offset = 0
    var failAt: Int?
    var cancelled = false

    init(_ bytes: [UInt8], step: Int = 100_000, failAt: Int? = nil) {
        self.bytes = bytes
        self.step = step
        self.failAt = failAt
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failAt, offset >= failAt { throw TestFailure("source broke at \(offset)") }
        let count = min(buffer.count, step, bytes.count - offset)
        bytes[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
        offset += count
        return count
    }

    func finish() throws {}
    func cancel() { cancelled = true }
}

/// Collects what reaches it; records whether it was finished or aborted.
final class MemorySink: ByteSink, @unchecked Sendable {
    var bytes: [UInt8] = []
    var finished = false
    var aborted = false
    var failAfter: Int?

    init(failAfter: Int? = nil) { self.failAfter = failAfter }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        if let failAfter, bytes.count >= failAfter { throw TestFailure("sink full") }
        bytes.append(contentsOf: buffer)
    }

    func finish() throws { finished = true }
    func abort() { aborted = true }
}

/// A source that never ends until cancelled (a program that hangs).
final class HangingSource: ByteSource, @unchecked Sendable {
    let condition = NSCondition()
    var cancelled = false

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled { condition.wait() }
        return 0
    }

    func finish() throws { throw TestFailure("finish after cancel") }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

struct TestFailure: Error, CustomStringConvertible, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic, somewhat compressible bytes.
func sampleBytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in stride(from: 0, to: count, by: 8) {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let word = (state >> 33) & 0x0f0f0f0f0f0f0f0f   // half the bits: compressible
        for shift in 0..<min(8, count - index) {
            bytes[index + shift] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
        }
    }
    return bytes
}
