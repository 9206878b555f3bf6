import DrctlTestSupport
import Foundation

/// What the kernel's page cache holds of files not yet on disk, from cachestat(2) (Linux 6.5):
/// a file with dirty pages, or pages under write-back, would lose bytes in a power failure.
/// Asked through the tests' Python (ctypes): Swift cannot call the variadic syscall(2).
enum PageCache {
    /// Every regular file under `directories` (symbolic links not followed) with a page dirty or
    /// under write-back: "path dirty=N writeback=M", one per file. A directory that is missing,
    /// unreadable or holds no regular file is an error, not a clean answer: the check would pass
    /// having looked at nothing.
    static func unsyncedFiles(under directories: [String]) throws -> [String] {
        let script = """
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            class Range(ctypes.Structure): _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
            class Stat(ctypes.Structure): _fields_ = [(n, ctypes.c_uint64) for n in
                ("cache", "dirty", "writeback", "evicted", "recently_evicted")]
            def unreadable(error): sys.exit("cannot walk %s: %s" % (error.filename, error.strerror))
            for top in sys.argv[1:]:
                if not os.path.isdir(top): sys.exit("not a directory: %s" % top)
                checked = 0
                for folder, _, names in os.walk(top, onerror=unreadable):
                    for name in names:
                        path = os.path.join(folder, name)
                        if os.path.islink(path) or not os.path.isfile(path): continue
                        fd = os.open(path, os.O_RDONLY)
                        stat = Stat()
                        if libc.syscall(451, fd, ctypes.byref(Range(0, 0)), ctypes.byref(stat), 0) != 0:
                            sys.exit("cachestat %s: %s" % (path, os.strerror(ctypes.get_errno())))
                        os.close(fd)
                        checked += 1
                        if stat.dirty or stat.writeback:
                            print("%s dirty=%d writeback=%d" % (path, stat.dirty, stat.writeback))
                if checked == 0: sys.exit("no regular file under %s" % top)
            """
        let result = try Command.run([try PythonTools.python, "-c", script] + directories)
        guard result.status == 0 else { throw TestFailure("cachestat failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
