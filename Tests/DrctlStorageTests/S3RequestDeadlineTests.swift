import Foundation
import Testing
@testable import DrctlStorage

/// `ObjectStore.bounded(by:)` on S3 against a frozen endpoint (moto stopped with SIGSTOP: it
/// accepts connections and answers nothing).
@Suite struct S3RequestDeadlineTests {
    /// A bounded request gives up at its deadline (not after the transport's 60 s stall and its
    /// retries), naming the region and the deadline; a latching deadline then answers the
    /// region's next requests at once, without asking it; one that does not latch asks again.
    /// The 30 s bound is functional, not a benchmark: the deadline is 2 s, unbounded the
    /// request takes over 60 s.
    @Test func aFrozenEndpointIsGivenUpAtTheDeadlineAndLatched() throws {
        let moto = try MotoServer()
        try moto.createBucket("frozen")
        let store = try moto.store(bucket: "frozen")
        try store.put("a", bytes: [1])
        let latched = store.bounded(by: RequestDeadline(seconds: 2, region: "eu", latching: true))
        let asking = store.bounded(by: RequestDeadline(seconds: 2, region: "eu", latching: false))
        #expect(try latched.list(prefix: "").map(\.key) == ["a"])   // a live endpoint answers as before

        moto.freeze()
        defer { moto.thaw() }
        let started = Date()
        let first = #expect(throws: StorageError.self) { try latched.list(prefix: "") }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(first?.description.contains("region 'eu' did not answer within 2 s (its read_deadline) [") == true, "\(String(describing: first))")
        let next = #expect(throws: StorageError.self) { try latched.stat("a") }
        #expect(next?.description.contains("did not answer within 2 s (its read_deadline); not asked again in this run") == true,
                "\(String(describing: next))")
        // Bounding a bounded store keeps its deadline (and latch).
        #expect(throws: StorageError.self) { try latched.bounded(by: RequestDeadline(seconds: 9, region: "eu", latching: false)).stat("a") }

        let again = #expect(throws: StorageError.self) { try asking.stat("a") }
        #expect(again?.description.contains("[") == true, "asked the region again: \(String(describing: again))")
    }
}
