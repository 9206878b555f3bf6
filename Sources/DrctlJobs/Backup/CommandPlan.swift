import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// `kind: command`: the stdout of a program is the backup (one object, `stdout`); its exit
/// status decides whether it is complete.
final class CommandPlan: BackupPlan {
    let kind = "command"
    let objectNames = ["stdout"]
    private let argv: [String]
    private let environment: [String: String]

    init(target: TargetPolicy) throws {
        argv = target.command
        // Secrets are resolved now, before anything is written.
        environment = try target.environment.mapValues { try $0.resolve() }
    }

    /// The program gets the minimal environment and its own variables, nothing else of drctl's.
    func source(for object: String) throws -> ByteSource {
        try CommandSource(argv: argv, environment: .minimal().adding(environment))
    }

    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts) {
        (ConsistentPoint(time: startedAt, precision: "at-or-after"), SourceFacts(program: argv.first))
    }
}
