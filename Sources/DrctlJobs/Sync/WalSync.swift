import Logging
import DrctlStorage

/// A physical target's WAL archive in `sync`: every file some region holds, copied (as stored)
/// into the regions that lack it, from a region whose copy's header authenticates (the body is
/// sealed: only its size is checked without the key). Each source's copy is read once, through
/// the reader that checked its header; the repository's reader documents are built once per
/// run, and each key is parsed once, when it is listed. A copy that fails its checks is skipped
/// for the next region's and logged, as a backup's object is (`SyncJob`). Blocking: run it
/// through `OffPool`.
struct WalSync {
    let target: String
    let repository: Repository
    let logger: Logger

    /// One result per region that lacked any file, with `backupID` "wal".
    func run(into targets: [Region], from source: Region?) -> [SyncJob.Result] {
        let (held, named) = listings()
        let every = source.map { held[$0.name] ?? [] } ?? held.values.reduce(into: Set()) { $0.formUnion($1) }
        let lacking = targets.compactMap { region -> (Region, [String])? in
            guard region.name != source?.name, let holds = held[region.name] else { return nil }
            let missing = every.subtracting(holds).sorted()
            return missing.isEmpty ? nil : (region, missing)
        }
        guard !lacking.isEmpty else { return [] }
        let archives = Dictionary(Set(named.values.map(\.systemIdentifier)).map {
            ($0, WalArchive(repository: repository, target: target, systemIdentifier: $0))
        }, uniquingKeysWith: { first, _ in first })
        let documents: SignedDocuments
        do {
            documents = try archives.values.first!.readerDocuments()
        } catch {
            return lacking.map { region, _ in
                result(region, copied: 0, bytes: 0, used: [], problems: ["cannot read the repository's identity: \(error)"], integrity: false)
            }
        }

        return lacking.map { region, missing in
            var copied = 0, bytes: UInt64 = 0, used: [String] = [], problems: [String] = [], integrity = true
            for key in missing {
                let (system, file) = named[key]!
                let sources = (source.map { [$0] } ?? repository.regions).filter {
                    $0.name != region.name && held[$0.name]?.contains(key) == true
                }
                switch copy(file, key: key, into: region, from: sources, archive: archives[system]!, documents: documents) {
                case .copied(let from, let size):
                    copied += 1
                    bytes += size
                    if !used.contains(from) { used.append(from) }
                case .failed(let why, let onlyIntegrity):
                    problems += why
                    integrity = integrity && onlyIntegrity
                }
            }
            return result(region, copied: copied, bytes: bytes, used: used, problems: problems, integrity: integrity)
        }
    }

    /// Each readable region's WAL keys, and what each key names (parsed once); a key drctl does
    /// not write is left out. A region that cannot be listed is neither a source nor a target.
    private func listings() -> (held: [String: Set<String>], named: [String: (systemIdentifier: UInt64, file: WalFileName)]) {
        var held: [String: Set<String>] = [:]
        var named: [String: (systemIdentifier: UInt64, file: WalFileName)] = [:]
        for region in repository.regions {
            do {
                var keys = Set<String>()
                for object in try region.store.list(prefix: WalLayout.targetPrefix(target)) {
                    if named[object.key] == nil {
                        guard let parsed = WalLayout.parse(object.key) else { continue }
                        named[object.key] = (parsed.systemIdentifier, parsed.file)
                    }
                    keys.insert(object.key)
                }
                held[region.name] = keys
            } catch {
                logger.warning("WAL archive unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
            }
        }
        return (held, named)
    }

    private enum Copied {
        case copied(from: String, size: UInt64)
        /// Why each source failed; whether every failure was a copy failing its checks.
        case failed([String], onlyIntegrity: Bool)
    }

    /// `file` into `region` from the first of `sources` whose copy authenticates: its header and
    /// body read through one reader, and written as they were stored.
    private func copy(_ file: WalFileName, key: String, into region: Region, from sources: [Region],
                      archive: WalArchive, documents: SignedDocuments) -> Copied {
        var problems: [String] = []
        var onlyIntegrity = true
        for source in sources {
            do {
                guard let copy = try archive.copy(of: file, in: source, documents: documents) else { continue }
                let stored = copy.head + (try copy.body())
                do { try region.store.put(key, bytes: stored) } catch StorageError.alreadyExists {}
                return .copied(from: source.name, size: UInt64(stored.count))
            } catch {
                if !SyncJob.isIntegrity(error) { onlyIntegrity = false }
                logger.warning("WAL copy failed", metadata: [
                    "file": "\(file)", "from": "\(source.name)", "to": "\(region.name)", "error": "\(error)",
                ])
                problems.append("\(file) from region '\(source.name)': \(error)")
            }
        }
        if problems.isEmpty { return .failed(["\(file): no region holds a copy that authenticates"], onlyIntegrity: false) }
        return .failed(problems, onlyIntegrity: onlyIntegrity)
    }

    private func result(_ region: Region, copied: Int, bytes: UInt64, used: [String], problems: [String],
                        integrity: Bool) -> SyncJob.Result {
        SyncJob.Result(target: target, backupID: "wal", region: region.name, outcome: problems.isEmpty ? .copied : .failed,
                       sources: used, objectsCopied: copied, bytesCopied: bytes,
                       problem: problems.isEmpty ? nil : problems.joined(separator: "; "), integrity: !problems.isEmpty && integrity)
    }
}
