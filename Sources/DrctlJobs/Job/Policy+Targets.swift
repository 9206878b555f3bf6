import DrctlPolicy

extension Policy {
    /// The targets a command works on: the one named (`--target`), or every target when none is.
    public func targets(selecting name: String?) throws -> [TargetPolicy] {
        guard let name else { return targets }
        guard let target = target(named: name) else {
            throw JobError.unknownTarget(name, known: targets.map(\.name))
        }
        return [target]
    }
}
