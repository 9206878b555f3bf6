import Glibc
import DrctlStorage

/// A command target's restore has no instance to query: the restored file must have the size
/// the manifest recorded (its stored bytes' SHA-256 and authentication were checked while
/// restoring; a mismatch fails the restore itself).
struct CommandVerification {
    let manifest: BackupManifest
    let path: String

    func run() -> [DrillCheckResult] {
        guard manifest.objects.count == 1, let object = manifest.objects.first else {
            return [DrillCheckResult(name: "objects", expected: "1", actual: "\(manifest.objects.count)", passed: false)]
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            return [DrillCheckResult(name: "size \(object.name)", expected: "\(object.rawSize)", actual: nil, passed: false,
                                     error: "cannot stat \(path): \(String(cString: strerror(errno)))")]
        }
        return [
            DrillCheckResult(name: "size \(object.name)", expected: "\(object.rawSize)", actual: "\(info.st_size)",
                             passed: UInt64(info.st_size) == object.rawSize),
            DrillCheckResult(name: "sha256 \(object.name) (stored bytes, checked while restoring)", expected: object.sha256,
                             actual: object.sha256, passed: true),
        ]
    }
}
