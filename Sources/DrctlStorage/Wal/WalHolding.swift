/// Which regions hold an authentic copy of one WAL file, and why each region that could not
/// be counted was not: its copy could not be read (a refused request, a wrong key) or was
/// refused (damaged, forged). A region that simply has no copy is in neither list. A caller
/// waiting for a quorum reports these reasons when the wait runs out: "missing" and
/// "unreadable" need different repairs.
public struct WalHolding: Sendable {
    /// Region names, in policy order.
    public var held: [String] = []
    /// Each region whose copy could not be read or was refused, with the reason, in policy order.
    public var unreadable: [(region: String, reason: String)] = []

    public init(held: [String] = [], unreadable: [(region: String, reason: String)] = []) {
        self.held = held
        self.unreadable = unreadable
    }
}
