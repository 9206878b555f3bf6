import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlStorage
import Foundation
import Logging

/// `drctl wal-fetch`, PostgreSQL's `restore_command`: one WAL file from the first region whose
/// copy authenticates, streamed to the destination (`WalOpener`) and put in place only once its
/// size and SHA-256 are the header's. It fails closed: "absent" (`Outcome.absent`, exit 1, which ends recovery) only
/// when every region answered that it has no such file; any other failure (a region that did not
/// answer after retries, copies that fail their checks, a wrong key) is an error, which the
/// command turns into exit 126 so that PostgreSQL aborts recovery instead of promoting early.
///
/// One retry layer: the store's (`HTTPRetryPolicy.s3`), with more than one region each bounded
/// by its `read_deadline` (`Region.bounded`). A transient fault is retried there; a region that
/// refuses connections is left at once, one that keeps failing once its deadline has passed, and
/// it is not asked again in this run (nor by the read-ahead): the next region is asked within
/// seconds, not after a retry loop of its own around the store's. A lone region gets the store's
/// whole budget (there is no other to ask).
///
/// With a spool (`WalSpoolWorker`), a segment the spool held was served before any of this
/// (`WalSpool.serve`, without the policy); one fetched here starts the read-ahead worker for the
/// segments after it, which `wal-fetch` does not wait for (docs/ARCHITECTURE.md, "WAL archive").
public struct WalFetchJob: BlockingJob {
    public let target: String
    public let file: String
    public let destination: String
    /// Whose WAL: the data directory's `global/pg_control` names it, unless given.
    public let dataDirectory: String
    public let systemIdentifier: UInt64?
    public let readAhead: WalSpoolWorker?

    public init(target: String, file: String, destination: String, dataDirectory: String, systemIdentifier: UInt64? = nil,
                readAhead: WalSpoolWorker? = nil) {
        self.target = target
        self.file = file
        self.destination = destination
        self.dataDirectory = dataDirectory
        self.systemIdentifier = systemIdentifier
        self.readAhead = readAhead
    }

    public enum Outcome: Sendable, Equatable {
        /// Fetched from this region (`spool`: read ahead by the worker).
        case fetched(region: String, size: Int)
        /// Every region answered that it holds no such file.
        case absent
    }

    public func runBlocking(in context: JobContext) throws -> Outcome {
        try WalError.requirePhysical(target, in: context.policy)
        guard let name = WalFileName(file) else { throw WalError.notWalFileName(file) }
        let opener = try WalOpener.fromRegions(target: target, systemIdentifier: try systemIdentifier
            ?? PgControl.systemIdentifier(dataDirectory: dataDirectory), in: context)
        let repository = opener.archive.repository

        var absentIn: [String] = []
        var failures: [String] = []
        for region in repository.regions {
            switch Result(catching: { try opener.open(name, in: region, to: destination) }) {
            case .success(let size?):
                for failure in failures {
                    context.logger.warning("WAL file served from another region", metadata: [
                        "file": "\(name)", "region": "\(region.name)", "failure": "\(failure)"])
                }
                if let readAhead, name.kind == .segment {
                    readAhead.spool.remove(through: name)
                    readAhead.keepAhead(after: name)
                }
                return .fetched(region: region.name, size: size)
            case .success(nil):
                absentIn.append(region.name)
            case .failure(let error):
                switch error {
                case WalOpener.Failure.key(let cause), WalOpener.Failure.destination(let cause): throw cause
                default: break
                }
                failures.append("region '\(region.name)': \(error)")
                context.logger.warning("WAL file not read from region", metadata: ["file": "\(name)", "region": "\(region.name)", "error": "\(error)"])
            }
        }
        guard failures.isEmpty else { throw WalFetchFailed(file: name.description, failures: failures, absentIn: absentIn) }
        return .absent
    }
}

/// No region gave the WAL file, and not because all of them lack it.
public struct WalFetchFailed: Error, CustomStringConvertible {
    public let file: String
    public let failures: [String]
    public let absentIn: [String]

    public var description: String {
        "WAL file '\(file)' could not be fetched: " + failures.joined(separator: "; ")
            + (absentIn.isEmpty ? "" : "; absent from region(s) \(absentIn.joined(separator: ", "))")
            + " (recovery must stop rather than end early)"
    }
}
