extension Sandbox {
    /// `files(under:)` without the target locks (`locks/`), which every backup leaves released
    /// behind it, failed or not (docs/FORMAT.md, "Lock").
    func filesExceptLocks(under directory: String) -> [String] {
        files(under: directory).filter { !$0.hasPrefix("locks/") }
    }

    /// What backups stored: `files(under:)` without locks and without the history a failed run
    /// leaves on purpose (`records/`, docs/FORMAT.md, "Failure record").
    func backupFiles(under directory: String) -> [String] {
        filesExceptLocks(under: directory).filter { !$0.hasPrefix("records/") }
    }
}
