import ArgumentParser
import DrctlJobs
import DrctlStorage
import Foundation
import Glibc

struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "Fetch one archived WAL file (PostgreSQL's restore_command).",
        discussion: """
            restore_command = 'drctl wal-fetch --policy /etc/drctl/policy.yaml --target NAME "%f" "%p"'. \
            Exit 0: fetched (from the first region whose copy authenticates); 1: every region \
            answered that it has no such file (recovery ends there); 126: any other failure \
            (a region unreachable after retries, every copy damaged, a wrong key), which makes \
            PostgreSQL stop recovery instead of promoting early. Reads the next segments ahead \
            into the spool directory (outside PGDATA) unless the first region is a local \
            directory.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var wal: WalTargetOptions

    @Option(name: .long, help: ArgumentHelp("The cluster's system identifier, instead of reading global/pg_control.", valueName: "N"))
    var systemIdentifier: UInt64?

    @Option(name: .long, help: ArgumentHelp("Where the next segments are read ahead (default: <cache dir>/wal-spool; off: none).", valueName: "DIR"))
    var spool: String?

    @Option(name: .long, help: ArgumentHelp("Segments read ahead (default \(Self.defaultReadAhead)).", valueName: "N"))
    var readAhead: Int = Self.defaultReadAhead

    @Argument(help: ArgumentHelp("The WAL file's name (%f).", valueName: "FILE"))
    var file: String

    @Argument(help: ArgumentHelp("Where to put it (%p).", valueName: "PATH"))
    var destination: String

    static let defaultReadAhead = 4
    /// PostgreSQL stops recovery on an exit status above 125 instead of ending it (README, "Exit codes").
    static let abortRecovery: Int32 = 126

    func run() async throws {
        do {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let spoolDirectory = spool ?? ObjectCache.directory(commandLine: policy.repository.cacheDirectoryFromCommandLine,
                                                                 policy: policy.repository.cacheDirectory).map { $0 + "/wal-spool" }
            let job = WalFetchJob(target: wal.target, file: file, destination: destination,
                                  dataDirectory: wal.dataDirectory, systemIdentifier: systemIdentifier,
                                  spool: spoolDirectory.flatMap { $0 == "off" || readAhead < 1 ? nil : WalSpool(directory: $0, depth: readAhead) })
            switch try await JobRunner(JobContext(policy: policy, logger: logger)).run(job) {
            case .fetched(let region, let size):
                logger.info("WAL file fetched", metadata: ["file": "\(file)", "region": "\(region)", "bytes": "\(size)"])
            case .absent:
                throw ExitCode(1)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            ErrorLine.write("\(error)")
            throw ExitCode(Self.abortRecovery)
        }
    }
}
