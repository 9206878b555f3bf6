import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlPolicy
import DrctlStorage
import Foundation
import Glibc

struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "Fetch one archived WAL file (PostgreSQL's restore_command).",
        discussion: """
            restore_command = 'drctl wal-fetch --policy /etc/drctl/policy.yaml --target NAME "%f" "%p"'. \
            Exit 0: fetched (from the spool, or from the first region whose copy authenticates); \
            1: every region answered that it has no such file (recovery ends there); 126: any \
            other failure (a region unreachable after retries, every copy damaged, a wrong key), \
            which makes PostgreSQL stop recovery instead of promoting early. A background worker \
            opens the next segments into the spool directory (mode 700, the server's user's \
            alone), from where they are served by a rename. Stopped by SIGTERM or SIGINT, it \
            removes its partial file and exits 143 or 130; one killed leaves its partial (a hidden \
            file beside PATH), which the next wal-fetch for PATH removes.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var wal: WalTargetOptions

    @Option(name: .long, help: ArgumentHelp("The cluster's system identifier, instead of reading global/pg_control.", valueName: "N"))
    var systemIdentifier: UInt64?

    @Option(name: .long, help: ArgumentHelp("Where the next segments are kept ready, opened and checked (default: "
        + "<cache dir>/wal-spool; relative: to the data directory; off: none). Given, a segment found there is served "
        + "without reading the policy.", valueName: "DIR"))
    var spool: String?

    @Option(name: .long, help: ArgumentHelp("Segments read ahead (default \(Self.defaultReadAhead); 0: none).", valueName: "N"))
    var readAhead: Int = Self.defaultReadAhead

    @Argument(help: ArgumentHelp("The WAL file's name (%f).", valueName: "FILE"))
    var file: String

    @Argument(help: ArgumentHelp("Where to put it (%p).", valueName: "PATH"))
    var destination: String

    static let defaultReadAhead = 4
    /// PostgreSQL stops recovery on an exit status above 125 instead of ending it (README, "Exit codes").
    static let abortRecovery: Int32 = 126

    func validate() throws {
        guard readAhead >= 0 else {
            throw ValidationError("--read-ahead must be 0 (no read-ahead) or more segments, not \(readAhead)")
        }
    }

    func run() async throws {
        do {
            let logger = log.bootstrap()
            // One restore_command at a time writes %p: the hidden files killed runs left beside it
            // go now, this run's own if SIGTERM or SIGINT stops it (WalFetchDestination).
            Signals.onTermination { [destination] signal in
                WalFetchDestination.removePartials(of: destination)
                ErrorLine.write("\(JobError.interrupted(signal: signal))")
                _exit(ExitClass.interrupted(by: signal).rawValue)
            }
            WalFetchDestination.removePartials(of: destination)
            // An explicit spool: a segment held there is served before the policy is read.
            let policy = spool == nil ? try policyOptions.load(warningOn: logger) : nil
            let spoolDirectory = spool ?? policy.flatMap {
                ObjectCache.directory(commandLine: $0.repository.cacheDirectoryFromCommandLine, policy: $0.repository.cacheDirectory)
            }.map { $0 + "/wal-spool" }
            var readAheadWorker: WalSpoolWorker?
            if let spoolDirectory, spoolDirectory != "off", readAhead > 0 {
                do {
                    let spool = try WalSpool(trusting: spoolDirectory, depth: readAhead)
                    readAheadWorker = WalSpoolWorker(spool: spool, arguments: workerArguments(spool: spool))
                } catch {
                    logger.warning("\(error)")
                }
            }
            if let readAheadWorker, let size = try readAheadWorker.serve(file, to: destination, dataDirectory: wal.dataDirectory,
                                                                          systemIdentifier: systemIdentifier, logger: logger) {
                logger.info("WAL file fetched", metadata: ["file": "\(file)", "region": "\(WalSpool.regionName)", "bytes": "\(size)"])
                return
            }
            let loaded = try policy ?? policyOptions.load(warningOn: logger)
            let job = WalFetchJob(target: wal.target, file: file, destination: destination,
                                  dataDirectory: wal.dataDirectory, systemIdentifier: systemIdentifier, readAhead: readAheadWorker)
            switch try await JobRunner(JobContext(policy: loaded, logger: logger)).run(job) {
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

    /// `drctl wal-read-ahead` with this run's policy, target, cluster and spool, every path absolute.
    private func workerArguments(spool: WalSpool) -> [String] {
        let absolute = PathText.absolute
        return [PhysicalRestoreOptions.currentExecutable(), WalReadAheadCommand.configuration.commandName!,
                "--policy", absolute(policyOptions.policyPath), "--target", wal.target, "--pgdata", absolute(wal.dataDirectory),
                "--spool", spool.directory, "--read-ahead", "\(spool.depth)", "--log-level", "\(log.logLevel)"]
            + (policyOptions.cacheDir.map { ["--cache-dir", $0 == "off" ? $0 : absolute($0)] } ?? [])
            + (systemIdentifier.map { ["--system-identifier", "\($0)"] } ?? [])
    }
}
