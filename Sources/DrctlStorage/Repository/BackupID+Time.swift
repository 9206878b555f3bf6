import Foundation

extension BackupID {
    /// The start time the id carries (to the millisecond, UTC).
    public var startedAt: Date {
        let text = rawValue
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        func number(_ from: Int, _ count: Int) -> Int {
            let start = text.index(text.startIndex, offsetBy: from)
            return Int(text[start..<text.index(start, offsetBy: count)])!
        }
        // yyyyMMddTHHmmss.SSSZ (validated by init)
        let components = DateComponents(year: number(0, 4), month: number(4, 2), day: number(6, 2),
                                        hour: number(9, 2), minute: number(11, 2), second: number(13, 2))
        return utc.date(from: components)!.addingTimeInterval(Double(number(16, 3)) / 1000)
    }
}
