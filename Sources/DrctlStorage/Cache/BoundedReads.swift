import Foundation
import Synchronization

/// Blocking reads (S3 GETs over libcurl) run side by side, at most `width` at a time, each on a
/// dedicated thread, never on Swift's cooperative pool (docs/ARCHITECTURE.md, "Concurrency"). The
/// caller's thread waits for them all; the results come back in the items' order.
public enum BoundedReads {
    /// Reads one region takes at a time: enough to hide a 20–40 ms round trip behind the others,
    /// few enough that an endpoint does not answer SlowDown.
    public static let perRegion = 8

    /// One read per region, every region at once (a thread each): a slow region costs its own
    /// time, not the sum of all; the answers come back in the regions' order.
    public static func eachRegion<Answer: Sendable>(_ regions: [Region], _ read: @escaping @Sendable (Region) -> Answer) -> [Answer] {
        map(regions, width: regions.count, read)
    }

    public static func map<Item: Sendable, Answer: Sendable>(
        _ items: [Item], width: Int = perRegion, _ read: @escaping @Sendable (Item) -> Answer
    ) -> [Answer] {
        let threads = min(max(width, 1), items.count)
        if threads <= 1 { return items.map(read) }
        let state = Mutex<(next: Int, answers: [Answer?])>((0, Array(repeating: nil, count: items.count)))
        let finished = DispatchGroup()
        for _ in 0..<threads {
            finished.enter()
            let thread = Thread {
                while true {
                    let index = state.withLock { state -> Int? in
                        guard state.next < items.count else { return nil }
                        defer { state.next += 1 }
                        return state.next
                    }
                    guard let index else { break }
                    let answer = read(items[index])
                    state.withLock { $0.answers[index] = answer }
                }
                finished.leave()
            }
            thread.name = "drctl-read"
            thread.start()
        }
        finished.wait()
        return state.withLock { $0.answers.map { $0! } }
    }
}
