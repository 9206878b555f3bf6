import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// Tells the policy's notification channels what needs a person: a POST per channel shaped for
/// its kind (NotificationPayload), tried up to `attempts` times with a growing pause (`HTTPRetry`:
/// any failure, a refusal or a broken connection, is tried again). Never
/// throws and never changes a run's result or exit code: what cannot be delivered is logged.
public struct Notifier: Sendable {
    public let channels: [NotificationChannel]
    public let logger: Logger
    public var attempts = 3
    public var pause: Double = 0.5

    public init(channels: [NotificationChannel], logger: Logger) {
        self.channels = channels
        self.logger = logger
    }

    /// A drill that failed or missed an objective; a passed drill says nothing.
    public func drillFinished(_ record: DrillRecord) async {
        guard record.result != .passed else { return }
        let failed = record.result == .failed
        await send(Notification(
            event: failed ? .drillFailed : .drillObjectivesMissed, target: record.target,
            summary: "drctl drill of '\(record.target)' \(failed ? "failed" : "missed its objectives"): "
                + record.reasons.joined(separator: "; "),
            runID: record.drillID, error: record.reasons.first, at: record.finishedAt, drill: record))
    }

    /// A backup run's end: failed (`error`), degraded, or committed after a failed previous run
    /// (`previousFailed`, from the repository's history); a plain success says nothing.
    public func backupFinished(target: String, manifest: BackupManifest?, error: Error?, runID: String?,
                               previousFailed: Bool) async {
        if let manifest {
            if manifest.status == .degraded {
                await send(Notification(
                    event: .backupDegraded, target: target,
                    summary: "drctl backup of '\(target)' is degraded: stored in \(manifest.regions.joined(separator: ", ")) only "
                        + "(at least min_regions); run drctl sync once the other regions are back",
                    runID: manifest.backupID))
            } else if previousFailed {
                await send(Notification(event: .backupRecovered, target: target,
                                        summary: "drctl backup of '\(target)' succeeded again", runID: manifest.backupID))
            }
        } else if let error {
            await send(Notification(event: .backupFailed, target: target,
                                    summary: "drctl backup of '\(target)' failed: \(error)", runID: runID, error: "\(error)"))
        }
    }

    /// `backupFinished` with what the repository says (`history`, read by the caller): the
    /// failed run's id (its failure record) and whether the run before this one failed.
    public func backupFinished(target: String, manifest: BackupManifest?, error: Error?, startedAt: Date,
                               history: BackupHistory?) async {
        guard !channels.isEmpty, manifest != nil || error != nil else { return }
        let failures = history?.failures ?? []
        // This run's own record or manifest is told apart by id, not by time: stored times
        // are rounded to milliseconds.
        let runID = manifest?.backupID ?? failures.filter { $0.startedAt >= startedAt.addingTimeInterval(-1) }.map(\.runID).max()
        let lastFailure = failures.filter { $0.runID != runID }.map(\.startedAt).max()
        let lastSuccess = (history?.manifests ?? []).filter { $0.backupID != runID }.map(\.startedAt).max()
        let previousFailed = lastFailure.map { failure in lastSuccess.map { failure > $0 } ?? true } ?? false
        await backupFinished(target: target, manifest: manifest, error: error, runID: runID, previousFailed: previousFailed)
    }

    public func send(_ notification: Notification) async {
        guard !channels.isEmpty else { return }
        let host = ProcessInfo.processInfo.hostName
        for channel in channels {
            let body: [UInt8]
            do {
                body = try NotificationPayload.body(notification, for: channel.kind, host: host)
            } catch {
                logger.error("notification not sent: its payload could not be encoded", metadata: ["kind": "\(channel.kind.rawValue)", "error": "\(error)"])
                continue
            }
            let (attempts, pause, logger) = (self.attempts, self.pause, self.logger)
            _ = try? await OffPool.run {
                Self.post(body, to: channel, attempts: attempts, pause: pause, logger: logger)
            }
        }
    }

    private static func post(_ body: [UInt8], to channel: NotificationChannel, attempts: Int, pause: Double, logger: Logger) {
        var headers = [("Content-Type", "application/json")]
        for (name, secret) in channel.headers.sorted(by: { $0.key < $1.key }) {
            do {
                headers.append((name, try secret.resolve()))
            } catch {
                logger.warning("notification header secret unreadable; sending without it", metadata: ["header": "\(name)", "error": "\(error)"])
            }
        }
        var settings = HTTPSettings()
        settings.connectTimeout = 5
        settings.stallTimeout = 10
        let policy = HTTPRetryPolicy(maxAttempts: max(1, attempts), backoff: .linear(step: pause))
        let failure: Error
        do {
            try HTTPRetry(policy: policy).run { (_: Int) -> HTTPRetry.Attempt<Void> in
                do {
                    let request = HTTPRequest(method: "POST", url: channel.url, headers: headers, body: HTTPRequestBody(bytes: body))
                    let (response, _) = try HTTPClient(settings: settings).perform(request, limit: 64 << 10)
                    return (200..<300).contains(response.status) ? .done(()) : .retry(HTTPStatusError(status: response.status))
                } catch {
                    return .retry(error)
                }
            }
            return
        } catch {
            failure = error
        }
        logger.warning("notification not delivered", metadata: [
            "kind": "\(channel.kind.rawValue)", "url": "\(channel.url.split(separator: "?").first ?? "")",
            "attempts": "\(attempts)", "error": "\(failure)",
        ])
    }
}

