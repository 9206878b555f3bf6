import Foundation
import Testing
import DrctlStorage

/// What someone with write access to one region, and no key, can plant there: JSON documents
/// copied from real ones and edited as dictionaries (so every field, known to this drctl or not,
/// is kept as it was), written back where drctl reads them.
enum PlantedJSON {
    static func read(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func bytes(_ document: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func write(_ document: [String: Any], to path: String) throws {
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        try bytes(document).write(to: URL(fileURLWithPath: path))
    }

    /// A copy of `manifest` (a manifest's JSON) as the backup `id` started at `time`: its id,
    /// times and object keys moved, nothing else changed.
    static func manifest(_ manifest: [String: Any], as id: String, at time: Date) -> [String: Any] {
        var copy = manifest
        let target = manifest["target"] as? String ?? ""
        copy["backup_id"] = id
        copy["started_at"] = Timestamp.format(time)
        copy["finished_at"] = Timestamp.format(time.addingTimeInterval(1))
        var point = manifest["consistent_point"] as? [String: Any] ?? [:]
        point["time"] = Timestamp.format(time)
        copy["consistent_point"] = point
        copy["objects"] = (manifest["objects"] as? [[String: Any]] ?? []).map { object in
            var moved = object
            moved["key"] = "data/\(target)/\(id)/\(object["name"] as? String ?? "")"
            return moved
        }
        return copy
    }

    /// Plants, in the directory region `region`, a copy of `target`'s backup `id` dated
    /// `ahead` seconds from now; returns the planted backup's id.
    @discardableResult
    static func futureManifest(copying id: String, target: String, in region: String, ahead: TimeInterval) throws -> String {
        let time = Date().addingTimeInterval(ahead)
        let planted = BackupID(startedAt: time).rawValue
        let real = try read("\(region)/manifests/\(target)/\(id).json")
        try write(manifest(real, as: planted, at: time), to: "\(region)/manifests/\(target)/\(planted).json")
        return planted
    }

    /// Plants a copy of the record at `path` (`records/<target>/<folder>/<id>.json`) as the
    /// record `id` started at `time`, with `changes` applied; returns the planted record's path.
    @discardableResult
    static func record(copying path: String, idKey: String, as time: Date, changes: [String: Any] = [:]) throws -> String {
        var record = try read(path)
        let id = BackupID(startedAt: time).rawValue
        record[idKey] = id
        record["started_at"] = Timestamp.format(time)
        record["finished_at"] = Timestamp.format(time.addingTimeInterval(1))
        for (key, value) in changes { record[key] = value }
        let planted = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("\(id).json").path
        try write(record, to: planted)
        return planted
    }
}
