import Foundation
import DrctlCrypto
import DrctlStorage

/// Changes what a stored object holds the way drctl itself would have stored it: opened with
/// the backup's data key, decompressed, changed, compressed and sealed again, and the manifest's
/// record of it (sizes, SHA-256) rewritten (`ManifestRewriter`). The result is an authentic
/// backup whose content is not what it should be: for a base backup, a file that differs from
/// its `backup_manifest` entry, which only the restore's own check can catch.
enum ObjectResealer {
    static func reseal(_ object: String, manifest path: String, region: String, keyFile: String,
                       _ change: (inout [UInt8]) throws -> Void) throws {
        try ManifestRewriter.rewrite(path, region: region, keyFile: keyFile) { manifest, dataKey in
            guard let index = manifest.objects.firstIndex(where: { $0.name == object }) else { throw CocoaError(.fileNoSuchFile) }
            let stored = "\(region)/\(manifest.objects[index].key)"
            let context = StreamContext(backupID: manifest.backupID, objectName: object)
            let opener = StreamOpener(dataKey: dataKey, expected: context)
            let sealedBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: stored)))
            let compressed = try sealedBytes.withUnsafeBytes { try opener.update($0) } + opener.finish()
            var raw = try zstd(["-d"], compressed)
            try change(&raw)
            let sealer = StreamSealer(dataKey: dataKey, context: context)
            let recompressed = try zstd(["-3"], raw)
            let sealed = recompressed.withUnsafeBytes { sealer.update($0) } + sealer.finish()
            try Data(sealed).write(to: URL(fileURLWithPath: stored))
            manifest.objects[index].rawSize = UInt64(raw.count)
            manifest.objects[index].storedSize = UInt64(sealed.count)
            manifest.objects[index].sha256 = hex(sha256(sealed))
        }
    }

    /// `zstd` (the command) over `input`, through files.
    private static func zstd(_ options: [String], _ input: [UInt8]) throws -> [UInt8] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-reseal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Data(input).write(to: URL(fileURLWithPath: "\(scratch)/in"))
        let done = try Command.run(["zstd", "-q", "-f"] + options + ["\(scratch)/in", "-o", "\(scratch)/out"])
        guard done.status == 0 else { throw Command.ShellFailed(script: "zstd \(options)", result: done) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/out")))
    }
}
