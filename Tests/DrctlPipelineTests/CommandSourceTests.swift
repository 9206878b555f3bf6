import Foundation
import Testing
import DrctlPipeline
@testable import DrctlSources

@Suite struct CommandSourceTests {
    func drain(_ source: CommandSource) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            out += buffer[..<count]
        }
        return out
    }

    @Test func readsStdoutAndChecksStatus() throws {
        let source = try CommandSource(argv: ["sh", "-c", "printf hello; printf oops >&2"])
        #expect(try drain(source) == Array("hello".utf8))
        try source.finish()
    }

    @Test func nonZeroExitFailsWithStderr() throws {
        let source = try CommandSource(argv: ["sh", "-c", "echo partial; echo 'cannot connect' >&2; exit 7"])
        _ = try drain(source)
        #expect {
            try source.finish()
        } throws: { error in
            "\(error)".contains("exited with status 7") && "\(error)".contains("cannot connect")
        }
    }

    @Test func passesEnvironmentNotArgv() throws {
        let source = try CommandSource(argv: ["sh", "-c", "printf %s \"$DRCTL_TEST_SECRET\""],
                                       environment: .minimal().adding(["DRCTL_TEST_SECRET": "s3cret"]))
        #expect(try drain(source) == Array("s3cret".utf8))
        try source.finish()
    }

    /// A child gets none of drctl's variables but the minimal ones: not one set in drctl's
    /// environment (as a policy's `{env: NAME}` secret is).
    @Test func inheritsOnlyTheMinimalEnvironment() throws {
        setenv("DRCTL_TEST_NOT_FOR_CHILDREN", "secret value", 1)
        defer { unsetenv("DRCTL_TEST_NOT_FOR_CHILDREN") }
        let source = try CommandSource(argv: ["env"])
        let names = String(decoding: try drain(source), as: UTF8.self).split(separator: "\n").map { String($0.prefix { $0 != "=" }) }
        try source.finish()
        #expect(names.contains("PATH"), "\(names)")
        #expect(names.allSatisfy { ChildEnvironment.minimalNames.contains($0) || $0.hasPrefix("LC_") }, "\(names)")
    }

    @Test func minimalTakesOnlyItsNames() {
        let given = ["PATH": "/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "TZ": "UTC", "DB_PASSWORD": "x", "AWS_SECRET_ACCESS_KEY": "y",
                     "PGPASSWORD": "z"]
        #expect(ChildEnvironment.minimal(from: given).variables == ["PATH": "/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "TZ": "UTC"])
        #expect(ChildEnvironment.minimal(from: given).adding(["TOKEN": "t", "TZ": "Europe/Paris"]).variables
                == ["PATH": "/bin", "HOME": "/root", "LC_ALL": "C.UTF-8", "TZ": "Europe/Paris", "TOKEN": "t"])
    }

    @Test func missingProgram() throws {
        #expect {
            _ = try CommandSource(argv: ["drctl-no-such-program"])
        } throws: { error in
            "\(error)".contains("cannot start 'drctl-no-such-program'")
        }
    }

    /// A program whose file is still open for writing (as when a concurrent fork inherited the
    /// installer's descriptor) fails exec with ETXTBSY; the start waits for the writer to let go.
    @Test func aProgramStillOpenForWritingStartsOnceItIsClosed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-busy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("program").path
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
        #expect(fd >= 0)
        let script = Array("#!/bin/sh\nprintf started\n".utf8)
        #expect(write(fd, script, script.count) == script.count)
        let writer = Thread { usleep(60_000); close(fd) }
        writer.start()
        let source = try CommandSource(argv: [path])
        #expect(try drain(source) == Array("started".utf8))
        try source.finish()
    }

    /// A program gets standard input, output and error, and no other descriptor of drctl's,
    /// even one opened without close-on-exec (as a parent process or a library may leave).
    @Test func aProgramInheritsOnlyItsStandardDescriptors() throws {
        let stray = open("/dev/null", O_RDONLY)
        #expect(stray > 2)
        defer { close(stray) }
        let source = try CommandSource(argv: ["sh", "-c", "ls /proc/$$/fd"])
        let listed = String(decoding: try drain(source), as: UTF8.self).split(separator: "\n").compactMap { Int($0) }
        try source.finish()
        #expect(listed.contains(1) && !listed.contains(Int(stray)), "the child's descriptors: \(listed), the stray one: \(stray)")
    }

    @Test func cancelStopsAHangingProgram() throws {
        let source = try CommandSource(argv: ["sleep", "60"])
        let started = Date()
        source.cancel()
        #expect(try drain(source).isEmpty)
        #expect(throws: SourceError.self) { try source.finish() }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
