import Glibc

/// drctl never dumps core: it holds the repository's secret key, backups' data keys and the
/// policy's passwords in memory, and a core would write them to a disk (or hand them to a
/// crash collector) for anyone who later reads it. Set once, when drctl starts.
///
/// Two settings, since each covers what the other misses: the core size limit 0 (inherited by
/// the children too, which see the same secrets), and "not dumpable", which also holds when
/// the kernel pipes cores to a collector (`core_pattern` `|…`, which ignores the limit) and
/// keeps other processes of the same user from attaching to drctl or reading its memory. A
/// child becomes dumpable again when it executes its program, so only drctl's own /proc files
/// turn root-owned; drctl reads none of another process's.
///
/// `DRCTL_ALLOW_CORE_DUMPS=1` leaves both as they were, for debugging a crash (docs/OPERATIONS.md);
/// the tests set it so that a crashed run carries its backtraces.
public enum CoreDumps {
    public static let optInVariable = "DRCTL_ALLOW_CORE_DUMPS"

    /// PR_SET_DUMPABLE from <sys/prctl.h>.
    private static let setDumpable: Int32 = 4

    /// Forbids core dumps of this process unless `DRCTL_ALLOW_CORE_DUMPS` is `1`. Returns
    /// whether both settings took (lowering a limit and clearing the flag cannot fail on Linux).
    @discardableResult
    public static func forbidUnlessAllowed() -> Bool {
        if let value = getenv(optInVariable), String(cString: value) == "1" { return false }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        let limited = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) == 0
        let undumpable = GlibcSymbols.prctl?(setDumpable, 0, 0, 0, 0) == 0
        return limited && undumpable
    }
}
