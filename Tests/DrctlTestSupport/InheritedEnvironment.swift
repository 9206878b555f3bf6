import Foundation
import DrctlSources

extension ChildEnvironment {
    /// The test process's whole environment plus `more`, for the tests' own helpers (servers,
    /// scripts, drctl itself), which may need anything the test runner was given. drctl never
    /// gives its children this (`ChildEnvironment.minimal`).
    public static func inherited(adding more: [String: String] = [:]) -> ChildEnvironment {
        ChildEnvironment(ProcessInfo.processInfo.environment).adding(more)
    }
}
