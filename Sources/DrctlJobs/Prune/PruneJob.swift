import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// Applies a target's retention to the backups the regions hold, and removes what failed or
/// interrupted backups left behind.
///
/// Order, for a crash at any point to leave nothing listed that is not whole: the target's lock
/// first (no backup of it runs meanwhile); then the manifests of every backup to remove, in every
/// region; only then their data objects. A crash after a manifest went leaves manifest-less
/// objects, which no command lists and the leftovers pass of the next prune removes. That pass
/// removes, once older than the grace period, data objects whose backup has no manifest in any
/// region, temporary files of a directory store, and unfinished S3 uploads. The grace period,
/// and the lock, keep it away from a backup that is still running.
///
/// SIGTERM (through the context's `interruption`) stops it between two removals, in the same safe order; the
/// lock is released and the next prune picks up where this one stopped.
public struct PruneJob: BlockingJob {
    public let target: TargetPolicy
    public let dryRun: Bool
    /// Overrides the policy's `retention.leftover_grace`.
    public let leftoverGrace: Duration?
    public let now: Date
    /// The regions to prune; nil: the policy's repository (tests set stores of their own).
    var repository: Repository?

    public init(target: TargetPolicy, dryRun: Bool, leftoverGrace: Duration? = nil, now: Date = Date()) {
        self.target = target
        self.dryRun = dryRun
        self.leftoverGrace = leftoverGrace
        self.now = now
    }

    /// The keys (`context.keys`) give the signing key a version 2 repository's lock and prune
    /// record need; a version 1 repository needs none. Another run holding the target is no
    /// error: the report says who (`lockedBy`).
    public func runBlocking(in context: JobContext) throws -> PruneReport {
        try PruneRun(job: self, context: context).run()
    }
}

/// One prune run: the job's steps with its context.
private struct PruneRun: ContextBound {
    let job: PruneJob
    let context: JobContext
    var target: TargetPolicy { job.target }
    var dryRun: Bool { job.dryRun }
    var leftoverGrace: Duration? { job.leftoverGrace }
    var now: Date { job.now }

    func run() throws -> PruneReport {
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        let repository = try job.repository ?? Repository(policy: policy.repository)
        let startedAt = Date()
        let runID = BackupID(startedAt: startedAt).rawValue
        let keys = context.keys
        let signing = try repository.signedDocuments(signingKey: Result { try keys.get().requireSigningKey() })
        var report = PruneReport(target: target.name, dryRun: dryRun, hasRetention: target.retention != nil)
        var lock: HeldLock?
        if !dryRun {
            do {
                lock = try HeldLock.take(target: target.name, operation: "prune", runID: runID,
                                         regions: repository.regions, required: 1,
                                         lifetime: policy.repository.lockLifetimeSeconds, signing: signing, logger: logger)
            } catch let error as TargetLockedError {
                report.lockedBy = "\(error.holder.owner)"
                report.errors.append("\(error)")
                return report
            }
        }
        defer { lock?.release() }

        // Which regions hold which backups' manifests.
        var holders: [String: [Region]] = [:]
        var manifests: [String: BackupManifest] = [:]
        var unreadable = false
        // Backups with a manifest that cannot be read: kept, with their data, and named.
        var damaged: Set<String> = []
        // Manifests that fail authentication: planted, altered or moved. Nothing is removed
        // while one is there: whoever can plant one may be steering retention.
        var unauthenticated: [String] = []
        for region in repository.regions {
            do {
                let listed = try repository.manifests(in: region, target: target.name)
                for manifest in listed.manifests {
                    holders[manifest.backupID, default: []].append(region)
                    manifests[manifest.backupID] = manifests[manifest.backupID] ?? manifest
                }
                for manifest in listed.unreadable {
                    if case RepositoryError.unauthenticated? = manifest.error as? RepositoryError {
                        unauthenticated.append("'\(manifest.key)' in region '\(manifest.region)'")
                    }
                    damaged.insert(manifest.backupID)
                    report.errors.append("\(manifest); backup \(manifest.backupID) kept")
                }
            } catch {
                unreadable = true
                report.errors.append("region '\(region.name)': \(error)")
            }
        }
        if unreadable {
            // Retention and leftovers both need every region's view: a backup that looks
            // incomplete or a manifest that looks missing may only be out of sight.
            report.errors.append("nothing removed: every region must be readable to prune")
            return report
        }
        if !unauthenticated.isEmpty {
            report.errors.append("nothing removed: \(unauthenticated.count) manifest(s) of target '\(target.name)' fail "
                + "authentication (\(unauthenticated.joined(separator: ", "))): someone who can write to the region "
                + "may be steering retention; remove them (after looking at who wrote them) and prune again")
            return report
        }

        let candidates = manifests.values.filter { !damaged.contains($0.backupID) }.map { manifest in
            RetentionCandidate(id: manifest.backupID, time: manifest.id?.startedAt ?? manifest.startedAt,
                               complete: holders[manifest.backupID]?.count == repository.regions.count)
        }
        let decision = target.retention.map {
            Retention.decide(candidates, policy: $0, now: now, timeZone: target.timeZone)
        } ?? RetentionDecision(kept: candidates.sorted { $0.id > $1.id }.map { .init(id: $0.id, reasons: []) }, removed: [])
        report.kept = decision.kept.map { .init(backupID: $0.id, reasons: $0.reasons) }

        // Manifests first, everywhere; then the data in every region where no manifest is left
        // (a region that lacked the manifest may still hold objects: an unfinished sync). A
        // version 2 region loses nothing before it holds the signed prune record that says so.
        var manifestKept: [String: Set<String>] = [:]
        if !dryRun, signing.signs, !decision.removed.isEmpty {
            let record = PruneRecord(runID: runID, target: target.name, tool: ToolInfo(version: DrctlVersion.current),
                                     startedAt: startedAt, writtenAt: Date(),
                                     removed: decision.removed.sorted().map { BackupReference(backupID: $0, sha256: manifests[$0]?.storedSHA256 ?? "") })
            for (region, error) in repository.write(record, signedBy: signing.signingKey) {
                for id in decision.removed { manifestKept[id, default: []].insert(region) }
                report.errors.append("region '\(region)': the prune record could not be written, so nothing is removed there: \(error)")
            }
        }
        for id in decision.removed where !dryRun {
            if stopped(&report) { return report }
            for region in holders[id] ?? [] where manifestKept[id]?.contains(region.name) != true {
                guard let backup = BackupID(id) else { continue }
                do {
                    try region.store.delete(RepositoryLayout.manifestKey(target: target.name, backup: backup))
                } catch {
                    manifestKept[id, default: []].insert(region.name)
                    report.errors.append("region '\(region.name)': cannot remove the manifest of \(id): \(error)")
                }
            }
        }
        // One listing of each region's data serves both the removal and the leftover sweep.
        let listings = repository.regions.map { region in
            (region: region, objects: Result { try region.store.list(prefix: dataPrefix) })
        }
        for id in decision.removed {
            let regions = (holders[id] ?? []).filter { manifestKept[id]?.contains($0.name) != true }
            if !dryRun, BackupID(id) != nil {
                if stopped(&report) { return report }
                for (region, objects) in listings where manifestKept[id]?.contains(region.name) != true {
                    deleteData(of: id, listed: objects, in: region, report: &report)
                }
                logger.info("backup removed", metadata: ["backup": "\(id)", "regions": "\(regions.map(\.name))"])
            }
            report.removed.append(.init(backupID: id, regions: regions.map(\.name)))
        }

        if target.mode == .physical {
            pruneWal(keeping: decision.kept.compactMap { manifests[$0.id] }, damaged: !damaged.isEmpty, in: repository,
                     report: &report, logger: logger)
        }

        // Leftovers look like the objects of a backup still running: sweep them only while the
        // lock (which keeps backups out) is still ours everywhere.
        if let lost = lock?.confirm(), !lost.isEmpty {
            for (region, reason) in lost {
                report.errors.append("\(LockLostError(target: target.name, region: region, reason: reason)); leftovers not swept")
            }
            return report
        }
        let remaining = Set(decision.kept.map(\.id)).union(damaged)
        let grace = Double((leftoverGrace ?? target.retention?.leftoverGrace ?? Retention.defaultLeftoverGrace).components.seconds)
        for (region, objects) in listings {
            if stopped(&report) { return report }
            sweepLeftovers(in: region, listed: objects, keeping: remaining.union(decision.removed), grace: grace,
                           report: &report, logger: logger)
        }
        return report
    }

    /// WAL older than the oldest kept base backup's start, in every region (`WalRetention`). Not
    /// while a kept backup's manifest cannot be read: where its WAL starts is unknown.
    private func pruneWal(keeping kept: [BackupManifest], damaged: Bool, in repository: Repository, report: inout PruneReport,
                          logger: Logger) {
        if damaged {
            report.errors.append("no WAL removed: a kept backup's manifest cannot be read, so where its WAL starts is unknown")
            return
        }
        let starts = kept.compactMap(WalRetention.start(of:))
        for region in repository.regions {
            if stopped(&report) { return }
            let listed: [ObjectInfo]
            do {
                listed = try region.store.list(prefix: WalLayout.targetPrefix(target.name))
            } catch {
                report.errors.append("region '\(region.name)': cannot list the WAL archive: \(error)")
                continue
            }
            for range in WalRetention.removable(listed.map(\.key), keeping: starts) {
                if !dryRun {
                    do {
                        try region.store.delete(keys: range.keys)
                    } catch {
                        report.errors.append("region '\(region.name)': cannot remove WAL \(range.first) … \(range.last): \(error)")
                        continue
                    }
                    logger.info("WAL removed", metadata: ["region": "\(region.name)", "first": "\(range.first)", "last": "\(range.last)",
                                                         "files": "\(range.files)"])
                }
                report.wal.append(.init(region: region.name, range: range))
            }
        }
    }

    /// Data objects of backups without a manifest anywhere, and the store's strays, older than `grace`.
    /// `known` are the backups the manifests name (those just removed are dealt with above).
    private func sweepLeftovers(in region: Region, listed objects: Result<[ObjectInfo], Error>, keeping known: Set<String>,
                                grace: Double, report: inout PruneReport, logger: Logger) {
        let before = report.leftovers.count
        defer {
            if !dryRun && report.leftovers.count > before {
                logger.info("leftovers removed", metadata: ["region": "\(region.name)", "count": "\(report.leftovers.count - before)"])
            }
        }
        do {
            for object in try objects.get() {
                let segment = backupSegment(of: object.key)
                guard let id = BackupID(segment), !known.contains(segment) else { continue }
                let age = now.timeIntervalSince(id.startedAt)
                guard age > grace else { continue }
                if !dryRun {
                    if stopped(&report) { return }
                    do {
                        try region.store.delete(object.key)
                    } catch {
                        report.errors.append("region '\(region.name)': cannot remove \(object.key): \(error)")
                        continue
                    }
                }
                report.leftovers.append(.init(region: region.name, kind: .object, key: object.key, ageSeconds: age))
            }
        } catch {
            report.errors.append("region '\(region.name)': cannot list \(dataPrefix): \(error)")
        }
        guard let cleaner = region.store as? StrayCleaning else { return }
        // `wal`: what a killed `wal-push` left (it holds no lock; its strays are as old as the grace says).
        for area in ["data", "manifests", "records", "locks", "wal"] {
            do {
                for stray in try cleaner.strays(under: "\(area)/\(target.name)/") {
                    let age = now.timeIntervalSince(stray.since)
                    guard age > grace else { continue }
                    if !dryRun {
                        do {
                            try cleaner.remove(stray)
                        } catch {
                            report.errors.append("region '\(region.name)': cannot remove \(stray.key): \(error)")
                            continue
                        }
                    }
                    report.leftovers.append(.init(region: region.name, kind: stray.kind == .temporaryFile ? .temporaryFile : .unfinishedUpload,
                                                  key: stray.key, ageSeconds: age))
                }
            } catch {
                report.errors.append("region '\(region.name)': cannot look for leftovers under \(area)/\(target.name)/: \(error)")
            }
        }
    }

    /// True (recorded in the report once) when a signal asked the prune to stop.
    private func stopped(_ report: inout PruneReport) -> Bool {
        guard let signal = interruption.signal else { return false }
        if report.interruptedBy == nil {
            report.interruptedBy = signal
            report.errors.append("interrupted by \(signal): stopped between two removals; the next prune removes the rest")
            logger.warning("prune interrupted", metadata: ["signal": "\(signal)"])
        }
        return true
    }

    private var dataPrefix: String { "data/\(target.name)/" }

    /// The backup id a data key belongs to: `data/<target>/<id>/<object>`.
    private func backupSegment(of key: String) -> String {
        String(key.dropFirst(dataPrefix.count).prefix { $0 != "/" })
    }

    /// Removes a removed backup's objects from a region's listing (one batch call).
    private func deleteData(of id: String, listed objects: Result<[ObjectInfo], Error>, in region: Region,
                            report: inout PruneReport) {
        do {
            let keys = try objects.get().map(\.key).filter { backupSegment(of: $0) == id }
            if !keys.isEmpty { try region.store.delete(keys: keys) }
        } catch {
            report.errors.append("region '\(region.name)': cannot remove the objects of \(id): \(error); the next prune will")
        }
    }
}
