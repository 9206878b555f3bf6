extension Sandbox {
    /// `files(under:)` without the target locks (`locks/`), which every backup leaves released
    /// behind it, failed or not (docs/FORMAT.md, "Lock").
    func filesExceptLocks(under directory: String) -> [String] {
        files(under: directory).filter { !$0.hasPrefix("locks/") }
    }
}
