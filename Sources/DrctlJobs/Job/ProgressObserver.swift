import DrctlPipeline

/// Told about each pipeline a job runs, so a terminal can show bytes, rate and ETA.
public protocol ProgressObserver: Sendable {
    /// - Parameters:
    ///   - counter: the bytes done so far (read for backups, stored bytes for restores).
    ///   - total: the expected total when known.
    func began(_ label: String, counter: ByteCounter, total: UInt64?)
    func ended()
}
