import Testing
@testable import DrctlPolicy

/// `regions[].read_deadline` and `repository.lock_lifetime` (issue #23): optional, with
/// defaults applied by the jobs, and refused outside their bounds.
@Suite struct DeadlinePolicyTests {
    @Test func deadlinesAreOptionalAndLoadWhenGiven() throws {
        let workspace = try Workspace()
        let plain = try workspace.load(minimalPolicy)
        #expect(plain.repository.regions[0].readDeadline == nil)
        #expect(plain.repository.lockLifetime == .seconds(600))

        let yaml = minimalPolicy
            .replacingOccurrences(of: "      url: repo", with: "      url: repo\n      read_deadline: 5s\n      timeout: 2m")
            .replacingOccurrences(of: "  encryption:", with: "  lock_lifetime: 2m\n  encryption:")
        let policy = try workspace.load(yaml)
        #expect(policy.repository.regions[0].readDeadline == .seconds(5))
        #expect(policy.repository.regions[0].timeout == .seconds(120))
        #expect(policy.repository.lockLifetime == .seconds(120))
    }

    /// A lock lifetime over 600 s would be a lock readers do not honour (docs/FORMAT.md,
    /// "Readers' rules"); one under 30 s would renew too often.
    @Test func deadlinesOutOfRangeAreNamed() throws {
        let workspace = try Workspace()
        let yaml = minimalPolicy
            .replacingOccurrences(of: "      url: repo", with: "      url: repo\n      read_deadline: 10m")
            .replacingOccurrences(of: "  encryption:", with: "  lock_lifetime: 1h\n  encryption:")
        let problems = workspace.problems(yaml)
        expectProblem(problems, line: 6, path: "repository.regions[0].read_deadline", "10m is out of range: use 1s…5m", count: 2)
        expectProblem(problems, line: 7, path: "repository.lock_lifetime", "out of range: use 30s…10m", count: 2)
    }
}
