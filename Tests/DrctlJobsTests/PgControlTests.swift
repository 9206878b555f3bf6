import Foundation
import Glibc
import Testing
@testable import DrctlJobs

/// The system identifier read from `global/pg_control`, and the reason named when it cannot be:
/// the error the system gave for the path (a directory, a missing file, a symbolic-link loop),
/// "shorter than a control file" only for a file that really is.
@Suite struct PgControlTests {
    /// A data directory with `global/` in a fresh temporary directory.
    static func dataDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "pg-control-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "\(path)/global", withIntermediateDirectories: true)
        return path
    }

    /// The reason `systemIdentifier` gives for `dataDirectory`, or nil when it read one.
    static func reason(_ dataDirectory: String) -> String? {
        do {
            _ = try PgControl.systemIdentifier(dataDirectory: dataDirectory)
            return nil
        } catch WalError.unreadableFile(_, let reason) {
            return reason
        } catch {
            return "\(error)"
        }
    }

    @Test func theIdentifierIsTheFirstFieldLittleEndian() throws {
        let data = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let bytes: [UInt8] = [0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01] + [UInt8](repeating: 0xAA, count: 8184)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(data)/global/pg_control"))
        #expect(try PgControl.systemIdentifier(dataDirectory: data) == 0x0102_0304_0506_0708)
    }

    @Test func aShortFileIsNamedShort() throws {
        let data = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(data)/global/pg_control"))
        #expect(Self.reason(data) == "shorter than a control file")
    }

    @Test func aDirectoryIsNamedWithItsErrorNotAsShort() throws {
        let data = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try FileManager.default.createDirectory(atPath: "\(data)/global/pg_control", withIntermediateDirectories: false)
        #expect(Self.reason(data) == String(cString: strerror(EISDIR)))
    }

    @Test func aMissingFileOrALinkLoopIsNamedWithItsError() throws {
        let data = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        #expect(Self.reason(data) == String(cString: strerror(ENOENT)))
        try FileManager.default.createSymbolicLink(atPath: "\(data)/global/pg_control", withDestinationPath: "pg_control")
        #expect(Self.reason(data) == String(cString: strerror(ELOOP)))
        // Not a data directory at all: a file where `global` should be.
        let file = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: file) }
        try FileManager.default.removeItem(atPath: "\(file)/global")
        try Data().write(to: URL(fileURLWithPath: "\(file)/global"))
        #expect(Self.reason(file) == String(cString: strerror(ENOTDIR)))
    }
}
