import Foundation
import Glibc
import DrctlPipeline
import DrctlSources
import DrctlTestSupport

/// Takes the whole RDB through a source into `file`; returns the byte count.
@discardableResult
func drain(_ source: RedisRDBSource, into file: URL, bufferSize: Int = 64 << 10) throws -> Int {
    let fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw TestFailure("open \(file.path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    var total = 0
    while true {
        let count = try source.read(into: buffer)
        if count == 0 { break }
        if let error = FileDescriptorIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { throw error }
        total += count
    }
    try source.finish()
    return total
}

/// Runs a program, returns its exit status and output.
func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try ChildProcess.run([path] + arguments)
    let status: Int32 = switch result.exit {
    case .exited(let code): code
    case .killed(let signal): 128 + signal
    }
    return (status, result.stdout + result.stderr)
}
