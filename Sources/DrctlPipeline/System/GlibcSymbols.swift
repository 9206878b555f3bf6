import Glibc

/// glibc functions that its Swift module does not export (their declarations need _GNU_SOURCE),
/// looked up when first used; nil on a glibc without them.
public enum GlibcSymbols {
    /// `malloc_trim(pad)`: gives the free memory of every arena back to the system.
    public static let mallocTrim: (@convention(c) (Int) -> Int32)? = symbol("malloc_trim")

    /// `mallopt(param, value)`: sets one of malloc's tunables; 1 on success.
    public static let mallopt: (@convention(c) (Int32, Int32) -> Int32)? = symbol("mallopt")

    /// `posix_spawn_file_actions_addclosefrom_np(actions, from)` (glibc 2.34): the child closes
    /// every descriptor from `from` up.
    public static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        symbol("posix_spawn_file_actions_addclosefrom_np")

    /// `fallocate(fd, mode, offset, length)`: allocates or (with FALLOC_FL_PUNCH_HOLE) frees a
    /// range of a file; 0 on success.
    public static let fallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = symbol("fallocate")

    /// `memfd_create(name, flags)` (glibc 2.27): a file that lives only in memory; a descriptor, or -1.
    public static let memfdCreate: (@convention(c) (UnsafePointer<CChar>, UInt32) -> Int32)? = symbol("memfd_create")

    /// `prctl(option, arg2, arg3, arg4, arg5)`: variadic in C, called with all five arguments
    /// (integers, passed the same way either way on Linux's ABIs); 0 on success for the options used.
    public static let prctl: (@convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32)? = symbol("prctl")

    private static func symbol<Function>(_ name: String) -> Function? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: Function.self) }
    }
}
