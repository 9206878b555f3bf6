/// How glibc's malloc is told to treat a stream's memory: set once, when drctl starts.
///
/// A pipeline allocates its pieces (256 KiB) on one thread and frees them on the next, so the
/// top of each thread's heap rises and falls all the time. By default glibc then gives memory
/// back whenever more than 128 KiB (later twice the largest freed block) is free at the top, and
/// faults it in again a moment later: a backup of the 1 GiB bench corpus took 27,000–37,000
/// minor page faults, of 4 GiB 87,000–100,000, and its peak RSS varied from run to run.
/// With these settings (which also turn off glibc's own moving of both thresholds) a backup
/// takes 6,300–8,300 faults for 1 GiB and 8,700–9,400 for 4 GiB: its memory is what it needs at
/// once, however long the stream.
///
/// What is freed stays with the process, in pieces between blocks still in use as well as at
/// the top of the heaps; a pipeline gives it back every `trimInterval` bytes it reads and when it
/// ends (`trim()`), so a long stream's memory does not creep up with it, and an agent gives it
/// back between runs.
public enum MallocSettings {
    /// Bytes a pipeline reads between two trims: a trim costs the faults of refilling what it gave
    /// back, a few hundred for a local backup, so four per GiB cost nothing measurable.
    static let trimInterval = 256 << 20

    /// Blocks from this size up get their own mapping, returned when freed (S3 part buffers);
    /// smaller ones (pieces, zstd's buffers) come from the heaps and are reused.
    static let mmapThreshold: Int32 = 4 << 20
    /// Free memory at the top of a heap kept for reuse instead of being given back at once.
    static let trimThreshold: Int32 = 32 << 20

    /// M_TRIM_THRESHOLD and M_MMAP_THRESHOLD from <malloc.h>.
    private static let trimParameter: Int32 = -1
    private static let mmapParameter: Int32 = -3

    /// Gives the free memory of every arena back to the system (malloc_trim).
    public static func trim() {
        _ = GlibcSymbols.mallocTrim?(0)
    }

    /// Sets both thresholds; false if glibc refused one (or has no mallopt): then malloc keeps
    /// its defaults, which cost page faults, not correctness.
    @discardableResult
    public static func apply() -> Bool {
        guard let mallopt = GlibcSymbols.mallopt else { return false }
        let mmapSet = mallopt(mmapParameter, mmapThreshold) == 1
        let trimSet = mallopt(trimParameter, trimThreshold) == 1
        return mmapSet && trimSet
    }
}
