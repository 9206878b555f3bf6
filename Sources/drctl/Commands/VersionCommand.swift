import ArgumentParser
import DrctlJobs

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print drctl's version and the versions of the libraries it runs on.")

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Versions: Encodable {
        let drctl: String
        let libraries: [String: String]
    }

    func run() async throws {
        let versions = Versions(drctl: DrctlVersion.current, libraries: DrctlVersion.libraries)
        if json {
            try Output.json(versions)
        } else {
            Output.line("drctl \(versions.drctl)")
            for (name, version) in versions.libraries.sorted(by: { $0.key < $1.key }) {
                Output.line("  \(name) \(version)")
            }
        }
    }
}
